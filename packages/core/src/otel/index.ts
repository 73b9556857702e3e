import {
  type Attributes,
  type Meter,
  metrics,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { KmsEvent, KmsEventListener } from "../economy/events.js";
import { EnvelopeError } from "../errors.js";

export interface OtelEventHandlerOptions {
  /** Default: `trace.getTracer("@kms-envelope/core")` from the global provider. */
  readonly tracer?: Tracer | undefined;
  /** Default: `metrics.getMeter("@kms-envelope/core")` from the global provider. */
  readonly meter?: Meter | undefined;
}

const SCOPE = "@kms-envelope/core";

/**
 * The keyring's events as OpenTelemetry signals, for `createKeyring({ onEvent })`
 * (and `createDataKeyCache({ onEvent })` for evictions):
 * - a CLIENT span per KMS call (`kms.wrap`, `kms.unwrap`, `kms.generate`,
 *   `kms.reencrypt`), timed from the call's start, with `kms.provider`,
 *   `kms.key_id`, `kms.operation`, `kms.outcome` and `kms.attempt`, status
 *   ERROR when the call failed (started in the context active when the event
 *   is delivered, as `tracer.startSpan` does);
 * - counters `kms_envelope.kms.calls`, `kms_envelope.cache.hits`,
 *   `kms_envelope.cache.misses`, `kms_envelope.cache.evictions`,
 *   `kms_envelope.retries`, `kms_envelope.failovers`,
 *   `kms_envelope.rate_limited`, `kms_envelope.kek.skipped`, and the
 *   histogram `kms_envelope.kms.duration` (ms).
 * Events carry no key material, so neither do the spans and metrics.
 */
export function createOtelEventHandler(options: OtelEventHandlerOptions = {}): KmsEventListener {
  if (options === null || typeof options !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "createOtelEventHandler: options must be an object");
  }
  if (options.tracer !== undefined && typeof options.tracer?.startSpan !== "function") {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      "createOtelEventHandler: tracer must be an OpenTelemetry Tracer",
    );
  }
  if (
    options.meter !== undefined &&
    (typeof options.meter?.createCounter !== "function" ||
      typeof options.meter.createHistogram !== "function")
  ) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      "createOtelEventHandler: meter must be an OpenTelemetry Meter",
    );
  }
  const tracer = options.tracer ?? trace.getTracer(SCOPE);
  const meter = options.meter ?? metrics.getMeter(SCOPE);
  const calls = meter.createCounter("kms_envelope.kms.calls", { description: "KMS calls (each attempt)" });
  const duration = meter.createHistogram("kms_envelope.kms.duration", {
    description: "KMS call duration",
    unit: "ms",
  });
  const hits = meter.createCounter("kms_envelope.cache.hits", { description: "Data-key cache hits" });
  const misses = meter.createCounter("kms_envelope.cache.misses", { description: "Data-key cache misses" });
  const evictions = meter.createCounter("kms_envelope.cache.evictions", {
    description: "Data keys zeroed and dropped from the cache",
  });
  const retries = meter.createCounter("kms_envelope.retries", { description: "KMS calls retried by core" });
  const failovers = meter.createCounter("kms_envelope.failovers", {
    description: "Decrypts that moved on to (or hedged with) the next KEK",
  });
  const rateLimited = meter.createCounter("kms_envelope.rate_limited", {
    description: "KMS calls that waited for (or were refused) a rate-limit token",
  });
  const skipped = meter.createCounter("kms_envelope.kek.skipped", {
    description: "Unreachable extra KEKs left out of an envelope",
  });

  return (event: KmsEvent) => {
    const key: Attributes = { "kms.provider": event.provider, "kms.key_id": event.keyId };
    switch (event.type) {
      case "kek.wrap":
      case "kek.unwrap":
      case "kek.generate":
      case "kek.reencrypt": {
        const operation = event.type.slice(4);
        const attributes: Attributes = {
          ...key,
          "kms.operation": operation,
          "kms.outcome": event.outcome,
          "kms.attempt": event.attempt,
        };
        const end = Date.now();
        const span = tracer.startSpan(`kms.${operation}`, {
          kind: SpanKind.CLIENT,
          startTime: end - event.durationMs,
          attributes,
        });
        if (event.outcome !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: event.outcome });
        span.end(end);
        const metric = { ...key, "kms.operation": operation, "kms.outcome": event.outcome };
        calls.add(1, metric);
        duration.record(event.durationMs, metric);
        return;
      }
      case "cache.hit":
        hits.add(1, { ...key, "kms.cache.side": event.side });
        return;
      case "cache.miss":
        misses.add(1, { ...key, "kms.cache.side": event.side });
        return;
      case "cache.evict":
        evictions.add(1, { ...key, "kms.cache.side": event.side, "kms.cache.reason": event.reason });
        return;
      case "retry":
        retries.add(1, { ...key, "kms.operation": event.operation, "kms.outcome": event.code });
        return;
      case "failover":
        failovers.add(1, { ...key, "kms.failover.reason": event.reason });
        return;
      case "rate-limited":
        rateLimited.add(1, { ...key, "kms.operation": event.operation });
        return;
      case "kek.skipped":
        skipped.add(1, { ...key, "kms.outcome": event.code });
        return;
    }
  };
}
