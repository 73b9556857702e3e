/**
 * Searches anything (an error with its cause chain and `failures`, CLI
 * output, a log file) for secrets in every spelling a leak could take: raw
 * bytes, hex (either case), base64 and base64url at any byte alignment, in
 * windows of 12 bytes, so a partial echo (a parser quoting 10 characters of
 * input) is caught as well as a whole key.
 */
export interface Secret {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface Leak {
  readonly secret: string;
  readonly spelling: string;
  readonly where: string;
}

const WINDOW = 12;

interface Needle {
  readonly secret: string;
  readonly spelling: string;
  readonly text?: string | undefined;
  readonly bytes?: Buffer | undefined;
}

/** Windows with few distinct bytes (runs of zeros, repeated text) would match unrelated data. */
function distinctive(bytes: Uint8Array): boolean {
  return new Set(bytes).size >= 6;
}

/** Substrings of a base64 text that hold only characters fully determined by `secret`, for each of the 3 alignments. */
function base64Windows(secret: Buffer, encoding: "base64" | "base64url"): string[] {
  const windows: string[] = [];
  const chars = Math.ceil((WINDOW * 4) / 3);
  for (let shift = 0; shift < 3; shift++) {
    const text = Buffer.concat([Buffer.alloc(shift), secret])
      .toString(encoding)
      .replace(/=+$/, "");
    // The first ceil(shift·4/3) characters mix in the padding bytes; the last may hold partial bits.
    const start = Math.ceil((shift * 4) / 3);
    const stable = text.slice(start, text.length - 1);
    for (let at = 0; at + chars <= stable.length; at++) windows.push(stable.slice(at, at + chars));
  }
  return windows;
}

function needlesFor(secret: Secret): Needle[] {
  const bytes = Buffer.from(secret.bytes);
  if (bytes.length < WINDOW) return [];
  const needles: Needle[] = [];
  for (let at = 0; at + WINDOW <= bytes.length; at++) {
    const window = bytes.subarray(at, at + WINDOW);
    if (!distinctive(window)) continue;
    needles.push({ secret: secret.name, spelling: "raw", bytes: window });
    needles.push({ secret: secret.name, spelling: "hex", text: window.toString("hex") });
    needles.push({ secret: secret.name, spelling: "HEX", text: window.toString("hex").toUpperCase() });
  }
  if (distinctive(bytes)) {
    for (const text of base64Windows(bytes, "base64"))
      needles.push({ secret: secret.name, spelling: "base64", text });
    for (const text of base64Windows(bytes, "base64url"))
      needles.push({ secret: secret.name, spelling: "base64url", text });
  }
  return needles;
}

/** Every string and byte array reachable from `value`, with where it was found. */
export function reachable(
  value: unknown,
  maxDepth = 14,
): { strings: [string, string][]; bytes: [string, Uint8Array][] } {
  const strings: [string, string][] = [];
  const bytes: [string, Uint8Array][] = [];
  const seen = new Set<unknown>();
  const visit = (node: unknown, where: string, depth: number) => {
    if (typeof node === "string") {
      strings.push([where, node]);
      return;
    }
    if (node === null || (typeof node !== "object" && typeof node !== "function") || depth > maxDepth) return;
    if (seen.has(node)) return;
    seen.add(node);
    if (ArrayBuffer.isView(node)) {
      bytes.push([where, new Uint8Array(node.buffer, node.byteOffset, node.byteLength)]);
      return;
    }
    if (node instanceof ArrayBuffer) {
      bytes.push([where, new Uint8Array(node)]);
      return;
    }
    if (typeof node === "function") return;
    if (node instanceof Map) {
      for (const [key, entry] of node) {
        visit(key, `${where}<key>`, depth + 1);
        visit(entry, `${where}.get()`, depth + 1);
      }
    }
    if (node instanceof Set) for (const entry of node) visit(entry, `${where}<entry>`, depth + 1);
    // Own properties, enumerable or not (message, stack, cause are not enumerable).
    for (const key of Reflect.ownKeys(node)) {
      const descriptor = Object.getOwnPropertyDescriptor(node, key);
      if (descriptor === undefined || !("value" in descriptor)) continue;
      visit(descriptor.value, `${where}.${String(key)}`, depth + 1);
    }
  };
  visit(value, "$", 0);
  return { strings, bytes };
}

const indexes = new WeakMap<readonly Secret[], Map<number, Map<string, Needle>>>();

/** The needles of a secret list, by length, so each text is searched once however many secrets there are. */
function indexNeedles(secrets: readonly Secret[]): Map<number, Map<string, Needle>> {
  const cached = indexes.get(secrets);
  if (cached !== undefined) return cached;
  const byLength = new Map<number, Map<string, Needle>>();
  for (const secret of secrets) {
    for (const needle of needlesFor(secret)) {
      const text = needle.text ?? needle.bytes!.toString("latin1");
      const spelling = needle.text === undefined ? "raw" : needle.spelling;
      const map = byLength.get(text.length) ?? new Map<string, Needle>();
      byLength.set(text.length, map);
      map.set(text, { ...needle, spelling });
    }
  }
  indexes.set(secrets, byLength);
  return byLength;
}

export function findLeaks(value: unknown, secrets: readonly Secret[]): Leak[] {
  const { strings, bytes } = reachable(value);
  const texts: [string, string][] = [
    ...strings,
    ...bytes.map(([where, array]): [string, string] => [
      where,
      Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("latin1"),
    ]),
  ];
  const needles = indexNeedles(secrets);
  const leaks = new Map<string, Leak>();
  for (const [where, text] of texts) {
    for (const [length, map] of needles) {
      for (let at = 0; at + length <= text.length; at++) {
        const needle = map.get(text.slice(at, at + length));
        if (needle === undefined) continue;
        // One line per secret, spelling and place is enough to act on.
        leaks.set(`${needle.secret}|${needle.spelling}|${where}`, {
          secret: needle.secret,
          spelling: needle.spelling,
          where,
        });
      }
    }
  }
  return [...leaks.values()];
}
