import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { createDataKeyCache, createKeyring, decrypt, encrypt } from "../src/index.js";
import { createOtelEventHandler } from "../src/otel/index.js";
import { createScriptedKek, failure } from "./support/scripted-kek.js";

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });

afterEach(() => spans.reset());

async function counters(): Promise<Map<string, { attributes: Record<string, unknown>; value: number }[]>> {
  const { resourceMetrics } = await reader.collect();
  const found = new Map<string, { attributes: Record<string, unknown>; value: number }[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      found.set(
        metric.descriptor.name,
        metric.dataPoints.map((point) => ({
          attributes: point.attributes,
          value: typeof point.value === "number" ? point.value : (point.value as { count: number }).count,
        })),
      );
    }
  }
  return found;
}

describe("OpenTelemetry adapter (@kms-envelope/core/otel)", () => {
  it("a span per KMS call with provider, key id, operation, outcome; counters for calls and cache hits", async () => {
    const onEvent = createOtelEventHandler({
      tracer: tracerProvider.getTracer("test"),
      meter: meterProvider.getMeter("test"),
    });
    const a = createScriptedKek("key-a");
    const cache = createDataKeyCache({
      encrypt: { maxAgeMs: 60_000, maxMessages: 10, maxBytes: 1 << 20 },
      decrypt: { ttlMs: 60_000, capacity: 10 },
    });
    const keyring = createKeyring({ primary: a.kek, cache, onEvent });
    const plaintexts = [
      Buffer.from("first secret"),
      Buffer.from("second secret"),
      Buffer.from("third secret"),
    ];
    const envelopes = [];
    for (const plaintext of plaintexts)
      envelopes.push(await encrypt(plaintext, { keyring, context: { t: "1" } }));
    for (const envelope of envelopes) await decrypt(envelope, { keyring });
    a.next({ fail: "KMS_UNAVAILABLE" });
    await failure(encrypt(Buffer.from("x"), { keyring, context: { t: "2" } }));

    const finished = spans.getFinishedSpans();
    expect(finished.map((span) => [span.name, span.attributes["kms.outcome"], span.status.code])).toEqual([
      ["kms.wrap", "ok", 0],
      ["kms.unwrap", "ok", 0],
      ["kms.wrap", "KMS_UNAVAILABLE", 2],
    ]);
    expect(finished[0]!.kind).toBe(2); // SpanKind.CLIENT
    expect(finished[0]!.attributes).toEqual({
      "kms.provider": "memory",
      "kms.key_id": "key-a",
      "kms.operation": "wrap",
      "kms.outcome": "ok",
      "kms.attempt": 1,
    });
    const metrics = await counters();
    const total = (name: string, match: Record<string, unknown> = {}) =>
      (metrics.get(name) ?? [])
        .filter((point) => Object.entries(match).every(([k, v]) => point.attributes[k] === v))
        .reduce((sum, point) => sum + point.value, 0);
    expect(total("kms_envelope.kms.calls")).toBe(3);
    expect(total("kms_envelope.kms.calls", { "kms.outcome": "KMS_UNAVAILABLE" })).toBe(1);
    expect(total("kms_envelope.cache.hits", { "kms.cache.side": "encrypt" })).toBe(2);
    expect(total("kms_envelope.cache.hits", { "kms.cache.side": "decrypt" })).toBe(2);
    expect(total("kms_envelope.cache.misses")).toBe(3);
    expect(total("kms_envelope.kms.duration")).toBe(3);

    // Nothing secret in any span.
    const text = JSON.stringify(
      finished.map((span) => [span.name, span.attributes, span.status, span.events]),
    );
    for (const secret of [...a.deks, ...plaintexts, a.kekKey]) {
      for (const encoding of ["hex", "base64", "base64url", "latin1"] as const) {
        expect(text).not.toContain(Buffer.from(secret).toString(encoding).slice(0, 20));
      }
    }
  });

  it("checks its arguments (INVALID_ARGUMENT)", () => {
    for (const bad of [null, 5, { tracer: {} }, { meter: { createCounter: () => undefined } }]) {
      expect(() => createOtelEventHandler(bad as never)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
  });

  it("uses the global providers when given none", async () => {
    const onEvent = createOtelEventHandler();
    expect(() =>
      onEvent({ type: "kek.unwrap", provider: "p", keyId: "k", durationMs: 1, outcome: "ok", attempt: 1 }),
    ).not.toThrow();
  });
});

describe("packaging", () => {
  it("core keeps zero runtime dependencies; @opentelemetry/api is an optional peer used only by ./otel", async () => {
    const { readFile, readdir } = await import("node:fs/promises");
    const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.peerDependencies)).toEqual(["@opentelemetry/api"]);
    expect(manifest.peerDependenciesMeta["@opentelemetry/api"].optional).toBe(true);
    expect(manifest.exports["./otel"].default).toBe("./dist/otel/index.js");
    const src = new URL("../src/", import.meta.url);
    const files = (await readdir(src, { recursive: true })).filter((file) => file.endsWith(".ts"));
    const importers = [];
    for (const file of files) {
      if ((await readFile(new URL(file, src), "utf8")).includes('from "@opentelemetry/'))
        importers.push(file);
    }
    expect(importers).toEqual(["otel/index.ts"]);
  });
});
