/**
 * Fault injection shared by every emulator: tests queue faults that the next
 * matching calls suffer, in order. Each emulator maps a fault onto its wire
 * protocol (AWS ThrottlingException / HTTP 500, gRPC RESOURCE_EXHAUSTED /
 * UNAVAILABLE, Key Vault 429 with Retry-After / 503, a reset connection).
 */
export type FaultKind = "throttle" | "unavailable" | "latency" | "reset";

export interface Fault {
  readonly kind: FaultKind;
  /** For "latency": milliseconds to wait before answering normally. */
  readonly delayMs?: number;
  /** Only calls to this operation suffer the fault (e.g. "Decrypt"); any operation when absent. */
  readonly operation?: string;
}

export interface FaultController {
  /** The next `count` matching calls suffer `fault`. */
  inject(fault: Fault, count?: number): void;
  /** Removes every queued fault. */
  clear(): void;
  /** Takes the fault the next call to `operation` suffers, if any. */
  take(operation: string): Fault | undefined;
  /** Faults still queued. */
  readonly pending: number;
}

export function createFaultController(): FaultController {
  const queue: Fault[] = [];
  return {
    inject(fault, count = 1) {
      for (let i = 0; i < count; i++) queue.push(fault);
    },
    clear() {
      queue.length = 0;
    },
    take(operation) {
      const index = queue.findIndex(
        (fault) => fault.operation === undefined || fault.operation === operation,
      );
      if (index === -1) return undefined;
      return queue.splice(index, 1)[0];
    },
    get pending() {
      return queue.length;
    },
  };
}

/** Counts calls per operation, so tests can assert e.g. zero Encrypt calls. */
export interface CallCounter {
  record(operation: string): void;
  count(operation: string): number;
  reset(): void;
}

export function createCallCounter(): CallCounter {
  const counts = new Map<string, number>();
  return {
    record: (operation) => {
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
    },
    count: (operation) => counts.get(operation) ?? 0,
    reset: () => counts.clear(),
  };
}
