import { createFaultController, type Fault, type FaultController } from "../faults.js";
import type { StatusName } from "./status.js";

/**
 * Cloud KMS-only faults, on top of the shared kinds (throttle, unavailable,
 * latency, reset):
 * - "corrupt-response": one byte of the response's payload (ciphertext,
 *   plaintext or PEM) flips after its CRC32C was computed, as a bit flip on the
 *   way back would; a client that checks the checksums must reject it.
 * - "corrupt-request": one byte of the request's payload flips on arrival, so
 *   the service's own check of the client's CRC32C fails (INVALID_ARGUMENT).
 * - "unverified": the response claims the request checksums were not verified
 *   (`verified*Crc32c: false`), as when a request lost its checksum fields.
 * - "wrong-name": Encrypt answers with the name of a version of another key.
 * - "status": the call fails with the given gRPC status and message.
 */
export type GcpFaultKind = "corrupt-response" | "corrupt-request" | "unverified" | "wrong-name" | "status";

export interface GcpFault {
  readonly kind: Fault["kind"] | GcpFaultKind;
  readonly delayMs?: number;
  readonly operation?: string;
  /** For "status": the gRPC status to fail with. */
  readonly status?: StatusName;
  /** For "status": the error message (a realistic default otherwise). */
  readonly message?: string;
}

export interface GcpFaultController extends Omit<FaultController, "inject" | "take"> {
  /** The next `count` matching calls (by RPC name, e.g. "Decrypt") suffer `fault`. */
  inject(fault: GcpFault, count?: number): void;
  take(operation: string): GcpFault | undefined;
}

/**
 * The shared controller queues whatever it is given; only the kind union is
 * wider here, so the GCP kinds ride in the same queue and keep its ordering.
 */
export function createGcpFaultController(): GcpFaultController {
  const base = createFaultController();
  return {
    inject: (fault, count) => base.inject(fault as Fault, count),
    take: (operation) => base.take(operation) as GcpFault | undefined,
    clear: () => base.clear(),
    get pending() {
      return base.pending;
    },
  };
}
