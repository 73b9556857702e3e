import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { EnvelopeError, inspect } from "@kms-envelope/core";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertBuilt, cliSync, ONE_ERROR_LINE, type Workspace, workspace } from "./helpers.js";

// The CLI reads armored input with core's ArmorDecoder: it accepts exactly what core's
// inspect/decrypt accept for the same bytes, and refuses the rest with core's check.
let ws: Workspace;
const cli = (args: string[], options: Parameters<typeof cliSync>[2] = {}) => cliSync(ws, args, options);
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The code and message core gives for these bytes, or "ok". */
function coreVerdict(bytes: Buffer): string {
  try {
    inspect(new Uint8Array(bytes));
    return "ok";
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

/** An armored envelope whose base64url text does not end on a 4-character boundary. */
function armoredWithPartialGroup(): string {
  for (let size = 1; size < 8; size++) {
    const text = cli(["encrypt", "-k", "local://app", "--armor"], { input: "x".repeat(size) })
      .stdout.toString()
      .trim();
    if ((text.length - "kmse1:".length) % 4 !== 0) return text;
  }
  throw new Error("every envelope size ended on a group boundary");
}

beforeAll(assertBuilt);
beforeEach(async () => {
  ws = await workspace("kms-envelope-armor-");
  expect(cli(["keys", "create", "app"]).status).toBe(0);
});

describe("armored input is read by core's ArmorDecoder", () => {
  it("a non-canonical last character (unused bits set) is MALFORMED from the armor check, in decrypt, inspect and rewrap", () => {
    const canonical = armoredWithPartialGroup();
    const last = ALPHABET.indexOf(canonical.at(-1)!);
    const altered = `${canonical.slice(0, -1)}${ALPHABET[last | 1]}\n`;
    expect(Buffer.from(altered.slice(6), "base64url")).toEqual(Buffer.from(canonical.slice(6), "base64url"));
    writeFileSync(join(ws.dir, "odd.kmse"), altered);
    const expected = "armor: non-canonical base64url (unused bits of the last character are not zero)";
    expect(coreVerdict(Buffer.from(altered))).toBe(`MALFORMED: ${expected}`);
    for (const args of [
      ["decrypt", "-k", "local://app", "-i", "odd.kmse", "-o", "out.txt"],
      ["inspect", "-i", "odd.kmse"],
      ["rewrap", "-k", "local://app", "--to", "local://app", "-i", "odd.kmse", "-o", "re.kmse"],
    ]) {
      const refused = cli(args);
      expect(refused.status, args[0]).toBe(4);
      expect(refused.stderr).toMatch(ONE_ERROR_LINE("MALFORMED"));
      expect(refused.stderr).toContain(expected);
      expect(refused.stdout.length).toBe(0);
    }
    const fine = cli(["decrypt", "-k", "local://app", "-i", "-"], { input: `${canonical}\n` });
    expect(fine.status, fine.stderr).toBe(0);
  });

  it("only SP, HT, LF and CR are whitespace: FF before the text, VT or NBSP inside it are refused as core refuses them", () => {
    const text = armoredWithPartialGroup();
    const cases: [string, Buffer, number, string][] = [
      ["CRLF folds and tabs", Buffer.from(`\t\r\n ${text.slice(0, 20)}\r\n\t${text.slice(20)}\r\n`), 0, "ok"],
      ["FF first", Buffer.from(`\f${text}`), 4, "MALFORMED: magic: not a kms-envelope envelope"],
      ["VT first", Buffer.from(`\v${text}`), 4, "MALFORMED: magic: not a kms-envelope envelope"],
      [
        "VT inside",
        Buffer.from(`${text.slice(0, 20)}\v${text.slice(20)}`),
        4,
        "MALFORMED: armor: a character outside unpadded base64url",
      ],
      [
        "NBSP inside",
        Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xa0]), Buffer.from(text.slice(20))]),
        4,
        "MALFORMED: armor: a character outside unpadded base64url",
      ],
      [
        "kmse2 prefix",
        Buffer.from(`kmse2:${text.slice(6)}`),
        4,
        'MALFORMED: armor: armored envelopes start with "kmse1:" (no whitespace inside it)',
      ],
    ];
    for (const [label, input, status, verdict] of cases) {
      expect(coreVerdict(input), label).toBe(verdict);
      const result = cli(["decrypt", "-k", "local://app"], { input });
      expect(result.status, `${label}: ${result.stderr}`).toBe(status);
      if (status === 0) {
        expect(result.stdout.length).toBeGreaterThan(0);
      } else {
        expect(result.stderr).toMatch(ONE_ERROR_LINE("MALFORMED"));
        expect(result.stderr, label).toContain(verdict.slice("MALFORMED: ".length));
        expect(result.stdout.length, label).toBe(0);
      }
    }
  });
});
