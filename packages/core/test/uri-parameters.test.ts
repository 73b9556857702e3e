import { describe, expect, it } from "vitest";
import { EnvelopeError, readUriParameters } from "../src/index.js";

const SPEC = { region: "string", mrk: "boolean", algorithm: ["A", "B"] } as const;

function refusal(query: string): string {
  try {
    readUriParameters("acme-kms", query, SPEC);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    expect((error as EnvelopeError).code).toBe("INVALID_ARGUMENT");
    return (error as EnvelopeError).message;
  }
  throw new Error(`"${query}" was accepted`);
}

describe("readUriParameters", () => {
  it("reads text, true/false and listed names into typed values; absent ones stay absent", () => {
    expect(readUriParameters("acme-kms", "region=eu-west-1&mrk=false&algorithm=B", SPEC)).toEqual({
      region: "eu-west-1",
      mrk: false,
      algorithm: "B",
    });
    expect(readUriParameters("acme-kms", "mrk=true", SPEC)).toEqual({ mrk: true });
    expect(readUriParameters("acme-kms", "", SPEC)).toEqual({});
    expect(readUriParameters("acme-kms", "region=a%2Fb", SPEC)).toEqual({ region: "a/b" });
  });

  it("refuses an unknown name, a repeated one, an empty text, a non-boolean and a name not listed", () => {
    expect(refusal("colour=blue")).toBe('unknown acme-kms:// parameter "colour"');
    expect(refusal("mrk=true&mrk=false")).toBe('acme-kms:// parameter "mrk" is given twice');
    expect(refusal("region=")).toBe('acme-kms:// parameter "region" is empty');
    expect(refusal("mrk=yes")).toBe('acme-kms:// parameter "mrk" must be true or false');
    expect(refusal("algorithm=C")).toBe('acme-kms:// parameter "algorithm" must be one of "A", "B"');
    // Names are compared exactly: no case folding, no inherited properties.
    expect(refusal("MRK=true")).toBe('unknown acme-kms:// parameter "MRK"');
    expect(refusal("toString=x")).toBe('unknown acme-kms:// parameter "toString"');
  });

  it("validates its own arguments", () => {
    expect(() => readUriParameters("", "", SPEC)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => readUriParameters("acme-kms", undefined as unknown as string, SPEC)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    const badSpec = { region: "number" } as unknown as typeof SPEC;
    expect(() => readUriParameters("acme-kms", "region=1", badSpec)).toThrow(/not a parameter kind/);
  });
});
