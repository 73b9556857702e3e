import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../src/index.js";

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP-dates; anything else is undefined", () => {
    const now = Date.parse("Wed, 02 Dec 2026 06:00:00 GMT");
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 7 ", now)).toBe(7000);
    expect(parseRetryAfter("Wed, 02 Dec 2026 06:00:03 GMT", now)).toBe(3000);
    expect(parseRetryAfter("Wed, 02 Dec 2026 05:59:00 GMT", now)).toBe(0);
    for (const bad of [undefined, null, "", "-1", "1.5", "soon", "2026-12-02"]) {
      expect(parseRetryAfter(bad, now)).toBeUndefined();
    }
    expect(() => parseRetryAfter("1", Number.NaN)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
