import { installLoopbackGuard } from "@kms-envelope/emulators";
import { afterAll, expect } from "vitest";

/** Setup file: no test may connect anywhere but loopback (no real cloud, no metadata server). */
export const guard = installLoopbackGuard();

afterAll(() => {
  expect(guard.refused, "connections to non-loopback addresses").toEqual([]);
});
