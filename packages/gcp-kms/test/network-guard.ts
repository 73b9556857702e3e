import { installLoopbackGuard } from "@kms-envelope/emulators";
import { afterAll, expect } from "vitest";

/** Setup file: no test may reach the metadata server, googleapis.com or anything but loopback. */
export const guard = installLoopbackGuard();

afterAll(() => {
  expect(guard.refused, "connections to non-loopback addresses").toEqual([]);
});
