/**
 * A path glob as a regular expression over forward-slash paths: `*` is any
 * run of characters but `/`, `?` one such character, `**` any run including
 * `/` (and `**\/` also nothing, so `a/**\/b` matches `a/b`). Every other
 * character is literal: a small, predictable subset rather than a dependency.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          source += "(?:.*/)?";
        } else {
          source += ".*";
        }
      } else {
        source += "[^/]*";
      }
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "su");
}
