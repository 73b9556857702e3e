import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDataKeyCache,
  createKeyUriRegistry,
  decrypt,
  EnvelopeError,
  encrypt,
  type KmsEvent,
} from "@kms-envelope/core";
import { localKeyUriProvider, openKeystore } from "@kms-envelope/local";
import { describe, expect, it } from "vitest";
import { describeConfig, keyringFromConfig, parseConfig } from "../src/index.js";

const registry = createKeyUriRegistry([localKeyUriProvider]);

function project(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), "kms-config-economy-"));
  const file = join(dir, "kms-envelope.yaml");
  writeFileSync(file, yaml);
  openKeystore({ path: join(dir, "keys.json") }).create("app");
  return { dir, file, config: parseConfig(yaml, { file }) };
}

const PROFILE = `
profiles:
  app:
    encrypt: [local://app]
    providers: { local: { keystore: keys.json } }
    cache:
      encrypt: { maxAgeMs: 60000, maxMessages: 3, maxBytes: 1048576 }
      decrypt: { ttlMs: 60000, capacity: 100 }
      partition: billing
    limits:
      callTimeoutMs: 2000
      deadlineMs: 5000
      rateLimit: { requestsPerSecond: 100, burst: 10 }
      retry: { maxAttempts: 2, baseDelayMs: 10 }
      hedgeAfterMs: 250
      unreachableExtras: skip
`;

function codeOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof EnvelopeError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected an EnvelopeError");
}

describe("the profile's cache and limits sections", () => {
  it("make the keyring cache data keys and apply the limits", async () => {
    const { config } = project(PROFILE);
    const events: KmsEvent[] = [];
    const configured = await keyringFromConfig({ config, registry, onEvent: (event) => events.push(event) });
    const { keyring, cache } = configured;
    expect(cache).toBeDefined();
    expect(keyring.economy).toMatchObject({
      deadlineMs: 5000,
      hedgeAfterMs: 250,
      skipUnreachableExtras: true,
    });
    const envelopes = [];
    for (let i = 0; i < 7; i++) envelopes.push(await encrypt(Buffer.from(`m${i}`), { keyring, context: {} }));
    // maxMessages 3: seven messages, three DEKs, three wraps by the local KEK.
    expect(events.filter((event) => event.type === "kek.wrap")).toHaveLength(3);
    for (const envelope of envelopes) await decrypt(envelope, { keyring });
    expect(events.filter((event) => event.type === "kek.unwrap")).toHaveLength(3);
    expect(events.filter((event) => event.type === "cache.hit").length).toBe(4 + 4);
    cache!.dispose();
    expect(cache!.size).toEqual({ encrypt: 0, decrypt: 0 });
    expect(events.filter((event) => event.type === "cache.evict").length).toBeGreaterThan(0);
  });

  it("a program's own cache wins over the section, and a profile without the sections has neither", async () => {
    const { config } = project(PROFILE);
    const shared = createDataKeyCache({ decrypt: { ttlMs: 1000, capacity: 1 } });
    expect((await keyringFromConfig({ config, registry, cache: shared })).cache).toBe(shared);
    const plain = project(
      `profiles: { p: { encrypt: [local://app], providers: { local: { keystore: keys.json } } } }`,
    );
    const configured = await keyringFromConfig({ config: plain.config, registry });
    expect(configured.cache).toBeUndefined();
    expect(configured.keyring.economy).toBeUndefined();
  });

  it("describeConfig shows them", () => {
    const { config } = project(PROFILE);
    const description = describeConfig(config, {});
    expect(description.cache?.encrypt?.maxMessages).toBe(3);
    expect(description.limits?.unreachableExtras).toBe("skip");
  });

  it.each([
    ["cache: {}", /"profiles.app.cache" needs "encrypt" and\/or "decrypt"/],
    ["cache: { encrypt: { maxAgeMs: 1000, maxMessages: 10 } }", /maxBytes/],
    [
      "cache: { encrypt: { maxAgeMs: 0, maxMessages: 10, maxBytes: 10 } }",
      /maxAgeMs.* must be between 1 and/,
    ],
    ["cache: { decrypt: { ttlMs: 1000, capacity: 1.5 } }", /capacity.* must be an integer/],
    ["cache: { decrypt: { ttlMs: 1000, capacty: 1 } }", /capacty.*capacity/],
    ["limits: { deadlineMs: -1 }", /deadlineMs.* must be between 1 and/],
    ["limits: { rateLimit: { burst: 5 } }", /requestsPerSecond/],
    ["limits: { unreachableExtras: maybe }", /must be one of fail, skip/],
    ["limits: { callTimeout: 100 }", /callTimeout.*callTimeoutMs/],
  ])("%s is refused with its file and line", (section, message) => {
    const yaml = `profiles:\n  app:\n    encrypt: [local://app]\n    ${section}\n`;
    const error = codeOf(() => parseConfig(yaml, { file: "/x/kms-envelope.yaml" }));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/^\/x\/kms-envelope\.yaml:\d+:\d+/);
    expect(error.message).toMatch(message);
  });
});
