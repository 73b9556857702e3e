import { randomBytes } from "node:crypto";
import { crc32c as nativeCrc32c } from "@node-rs/crc32";
import { expect, it } from "vitest";
import { crc32c } from "../src/index.js";

it("matches the CRC32C check values of RFC 3720 (B.4) and the standard check string", () => {
  expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  expect(crc32c(new Uint8Array(0))).toBe(0);
});

it("agrees with the native @node-rs/crc32 (the emulator's) on random inputs of every size up to 1 KiB", () => {
  for (let length = 0; length <= 1024; length += 7) {
    const data = randomBytes(length);
    expect(crc32c(data), `length ${length}`).toBe(nativeCrc32c(data));
  }
});
