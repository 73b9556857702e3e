import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAwsKmsKek } from "@kms-envelope/aws-kms";
import { createAzureKeyVaultKek } from "@kms-envelope/azure-keyvault";
import {
  createKeyring,
  decrypt,
  decryptStream,
  EnvelopeError,
  inspect,
  type KeyEncryptionKey,
  rewrap,
} from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { createGcpKmsKek } from "@kms-envelope/gcp-kms";
import { openKeystore } from "@kms-envelope/local";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCorpus } from "../src/corpus.js";
import { findLeaks, type Secret } from "../src/leak-scan.js";
import { applyMutation, mutationArbitrary } from "../src/mutations.js";

const corpus = loadCorpus();
/** Every DEK and KEK of the vectors, and every plaintext long and varied enough to search for. */
const corpusSecrets: Secret[] = [
  ...corpus.secrets.map((bytes, index) => ({ name: `vector-secret-${index}`, bytes })),
  ...corpus.sources.map((source) => ({ name: `plaintext:${source.id}`, bytes: source.plaintext })),
];
const findings: { path: string; checked: number; leaks: number }[] = [];

afterAll(() => {
  console.log(`leak scan:\n${findings.map((row) => JSON.stringify(row)).join("\n")}`);
});

async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Scans each error (message, stack, cause chain, failures, every property) and records the figures. */
function expectNoLeaks(path: string, errors: readonly unknown[], secrets: readonly Secret[]) {
  const leaks = errors.flatMap((error) => findLeaks(error, secrets));
  findings.push({ path, checked: errors.length, leaks: leaks.length });
  expect(leaks).toEqual([]);
}

describe("the scanner", () => {
  it("finds a secret whole or in part, raw, hex, HEX, base64 and base64url, at every alignment, deep in a cause chain", () => {
    const secret = { name: "dek", bytes: randomBytes(32) };
    const bytes = Buffer.from(secret.bytes);
    const plants = [
      bytes,
      `x${bytes.subarray(3, 17).toString("hex")}y`,
      bytes.toString("hex").toUpperCase(),
      Buffer.concat([Buffer.from("a"), bytes.subarray(5, 25)]).toString("base64"),
      Buffer.concat([Buffer.from("ab"), bytes]).toString("base64url"),
      `… "${bytes.toString("base64").slice(4, 24)}" is not valid JSON`,
      bytes.subarray(10, 24).toString("latin1"),
    ];
    for (const plant of plants) {
      const error = new EnvelopeError("KMS_ERROR", "outer", {
        cause: new Error("inner", { cause: { request: { body: plant } } }),
      });
      expect(findLeaks(error, [secret]).length, String(plant)).toBeGreaterThan(0);
    }
    expect(findLeaks(new EnvelopeError("KMS_ERROR", randomBytes(32).toString("hex")), [secret])).toEqual([]);
  });
});

describe("core: every error over damaged envelopes", () => {
  it("decrypt, decryptStream, inspect and rewrap over 2,000 mutated envelopes: no DEK, KEK or plaintext in any error", async () => {
    const cases = fc.sample(
      fc.record({ source: fc.nat(corpus.sources.length - 1), mutation: mutationArbitrary }),
      {
        numRuns: 2_000,
        seed: 20_261_202,
      },
    );
    const errors: unknown[] = [];
    const envelopes = corpus.sources.map((source) => source.envelope);
    for (const { source, mutation } of cases) {
      const { bytes } = applyMutation(corpus.sources[source]!.envelope, mutation, envelopes);
      const keyring = corpus.keyring;
      errors.push(await caught(() => decrypt(bytes, { keyring, expectedContext: { other: "context" } })));
      errors.push(await caught(() => decrypt(bytes, { keyring })));
      errors.push(await caught(() => inspect(bytes)));
      errors.push(await caught(() => rewrap(bytes, { from: keyring, to: corpus.rewrapTarget })));
      errors.push(
        await new Promise((resolve) => {
          const stream = decryptStream({ keyring });
          stream.header.catch(() => undefined);
          stream.on("data", () => undefined);
          stream.on("error", resolve);
          stream.on("end", () => resolve(undefined));
          stream.end(bytes);
        }),
      );
    }
    const thrown = errors.filter((error) => error !== undefined);
    expect(thrown.length).toBeGreaterThan(8_000);
    expectNoLeaks("core errors over mutated envelopes", thrown, corpusSecrets);
  });

  it("a keyring of the wrong keys, and a wrong expected context: no secret in the error", async () => {
    const stranger = createKeyring({
      primary: (await import("@kms-envelope/local")).createLocalKek({
        key: randomBytes(32),
        keyId: "vector-k1",
      }),
    });
    const errors = await Promise.all(
      corpus.sources.map((source) => caught(() => decrypt(source.envelope, { keyring: stranger }))),
    );
    errors.push(
      ...(await Promise.all(
        corpus.sources.map((source) =>
          caught(() => decrypt(source.envelope, { keyring: corpus.keyring, expectedContext: { a: "b" } })),
        ),
      )),
    );
    expect(errors.every((error) => error instanceof EnvelopeError)).toBe(true);
    expectNoLeaks("core errors with wrong keys or context", errors, corpusSecrets);
  });
});

describe("providers: errors from the real SDKs against the emulators", () => {
  let aws: AwsKmsEmulator;
  let gcp: GcpKmsEmulator;
  let azure: AzureKeyVaultEmulator;
  beforeAll(async () => {
    [aws, gcp, azure] = await Promise.all([
      startAwsKmsEmulator(),
      startGcpKmsEmulator(),
      startAzureKeyVaultEmulator(),
    ]);
  }, 60_000);
  afterAll(() => Promise.all([aws?.close(), gcp?.close(), azure?.close()]));

  it("wrap and unwrap under every fault, a tampered wrapped key and a missing key: the DEK is in no error", async () => {
    const { endpoint, credentials, region } = aws.clientConfig();
    const awsKek = (keyId: string) =>
      createAwsKmsKek({ keyId, maxAttempts: 1, clientConfig: { endpoint, credentials, region } });
    const gcpClient = gcp.client();
    const azureKey = (await azure.createKey(`leak-${randomBytes(4).toString("hex")}`)).id;
    const clouds: {
      name: string;
      kek: KeyEncryptionKey;
      missing: KeyEncryptionKey;
      faults: typeof aws.faults | typeof gcp.faults;
      wrapOp: string;
      unwrapOp: string;
    }[] = [
      {
        name: "aws-kms",
        kek: awsKek(aws.createKey().arn),
        missing: awsKek("arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000"),
        faults: aws.faults,
        wrapOp: "Encrypt",
        unwrapOp: "Decrypt",
      },
      {
        name: "gcp-kms",
        kek: createGcpKmsKek({
          name: gcp.createKey().name,
          client: gcpClient,
          callOptions: { maxRetries: 1 },
        }),
        missing: createGcpKmsKek({
          name: "projects/p/locations/global/keyRings/none/cryptoKeys/none",
          client: gcpClient,
          callOptions: { maxRetries: 1 },
        }),
        faults: gcp.faults,
        wrapOp: "Encrypt",
        unwrapOp: "Decrypt",
      },
      {
        name: "azure-keyvault",
        kek: createAzureKeyVaultKek({
          keyId: azureKey,
          credential: azure.credential,
          clientOptions: azure.clientOptions({ retryOptions: { maxRetries: 0 } }),
        }),
        missing: createAzureKeyVaultKek({
          keyId: azureKey.replace(/keys\/[^/]+/, "keys/missing-key"),
          credential: azure.credential,
          clientOptions: azure.clientOptions({ retryOptions: { maxRetries: 0 } }),
        }),
        faults: azure.faults,
        wrapOp: "WrapKey",
        unwrapOp: "UnwrapKey",
      },
    ];
    const context = { purpose: "leaks" };
    try {
      for (const cloud of clouds) {
        const dek = randomBytes(32);
        const wrapped = await cloud.kek.wrap(dek, context);
        const entry = { provider: cloud.kek.provider, keyId: wrapped.keyId, wrapped: wrapped.wrapped };
        const errors: unknown[] = [];
        const faults = [
          { kind: "throttle" as const, delayMs: 0 },
          { kind: "unavailable" as const },
          { kind: "reset" as const },
        ];
        for (const fault of faults) {
          cloud.faults.inject({ ...fault, operation: cloud.wrapOp }, 3);
          errors.push(await caught(() => cloud.kek.wrap(dek, context)));
          cloud.faults.clear();
          cloud.faults.inject({ ...fault, operation: cloud.unwrapOp }, 3);
          errors.push(await caught(() => cloud.kek.unwrap(entry, context)));
          cloud.faults.clear();
        }
        cloud.faults.inject({ kind: "latency", delayMs: 2_000, operation: cloud.wrapOp });
        errors.push(await caught(() => cloud.kek.wrap(dek, context, { signal: AbortSignal.timeout(100) })));
        cloud.faults.clear();
        const flipped = Buffer.from(entry.wrapped);
        flipped[flipped.length - 3]! ^= 1;
        errors.push(await caught(() => cloud.kek.unwrap({ ...entry, wrapped: flipped }, context)));
        // Azure Key Vault's wrap takes no context (core's header tag binds it instead): only where the KMS binds it.
        if (cloud.name !== "azure-keyvault")
          errors.push(await caught(() => cloud.kek.unwrap(entry, { purpose: "other" })));
        errors.push(await caught(() => cloud.missing.wrap(dek, context)));
        const untyped = errors.map((error, index) =>
          error instanceof EnvelopeError ? undefined : [index, error],
        );
        expect(untyped.filter((entry) => entry !== undefined)).toEqual([]);
        expectNoLeaks(`${cloud.name} KEK errors`, errors, [{ name: `${cloud.name} DEK`, bytes: dek }]);
      }
    } finally {
      await gcpClient.close();
    }
  });
});

describe("the local keystore, its audit log and the CLI", () => {
  const directory = mkdtempSync(join(tmpdir(), "kms-envelope-leaks-"));
  const keystorePath = join(directory, "keystore.json");
  const bin = new URL("../../cli/dist/bin.js", import.meta.url).pathname;
  const cli = (args: string[], input?: Uint8Array) => {
    const result = spawnSync(process.execPath, [bin, ...args, "--keystore", keystorePath], {
      input,
      env: { PATH: process.env.PATH ?? "" },
    });
    return {
      status: result.status,
      stdout: result.stdout,
      out: Buffer.concat([result.stdout, result.stderr]),
    };
  };
  const plaintext = randomBytes(64);

  function secretsNow(envelope: Uint8Array, dek: Uint8Array): Secret[] {
    const stored = JSON.parse(readFileSync(keystorePath, "utf8")) as {
      keys: Record<string, { versions: { material: string }[] }>;
    };
    const materials = Object.values(stored.keys).flatMap((key) =>
      key.versions.map((version) => version.material),
    );
    return [
      ...materials.map((material, index) => ({
        name: `keystore material ${index}`,
        bytes: Buffer.from(material, "base64"),
      })),
      { name: "plaintext", bytes: plaintext },
      { name: "DEK", bytes: dek },
      { name: "envelope bytes stand in for nothing secret", bytes: new Uint8Array() },
    ].filter((secret) => secret.bytes.length > 0 && envelope.length > 0);
  }

  it("CLI output on 16 bad inputs, the keystore's errors and the audit log: no key material, DEK or plaintext", async () => {
    for (const name of ["alpha", "beta"]) {
      const created = cli(["keys", "create", name]);
      expect(created.status, created.out.toString()).toBe(0);
    }
    const encrypted = cli(["encrypt", "--key", "local://alpha", "--context", "app=leaks"], plaintext);
    expect(encrypted.status, encrypted.out.toString()).toBe(0);
    const envelope = encrypted.stdout;
    // The DEK, from the keystore's own KEK (as decrypt would get it).
    const keystore = openKeystore({ path: keystorePath });
    let dek: Uint8Array | undefined;
    const spy: KeyEncryptionKey = {
      ...keystore.kek("alpha"),
      async unwrap(entry, context, options) {
        dek = await keystore.kek("alpha").unwrap(entry, context, options);
        return dek;
      },
    };
    await decrypt(envelope, { keyring: createKeyring({ primary: spy }) });
    expect(dek?.length).toBe(32);
    const header = inspect(envelope);
    expect(header.context).toEqual({ app: "leaks" });

    const file = (name: string, bytes: Uint8Array) => {
      const path = join(directory, name);
      writeFileSync(path, bytes);
      return path;
    };
    const flip = (at: number) => {
      const copy = Buffer.from(envelope);
      copy[at]! ^= 0x10;
      return copy;
    };
    const outputs: { status: number | null; out: Buffer }[] = [
      cli(["decrypt", "--key", "local://alpha", "-i", file("flip-body", flip(envelope.length - 20))]),
      cli(["decrypt", "--key", "local://alpha", "-i", file("flip-header", flip(header.headerLength - 40))]),
      cli([
        "decrypt",
        "--key",
        "local://alpha",
        "-i",
        file("truncated", envelope.subarray(0, envelope.length - 7)),
      ]),
      cli(["decrypt", "--key", "local://beta", "-i", file("wrong-key", envelope)]),
      cli([
        "decrypt",
        "--key",
        "local://alpha",
        "--expect-context",
        "app=other",
        "-i",
        file("ctx", envelope),
      ]),
      cli(["decrypt", "--key", "local://alpha", "-i", file("garbage", randomBytes(300))]),
      cli(["inspect", "-i", file("garbage2", randomBytes(300))]),
      cli(["decrypt", "--key", "local://missing", "-i", file("missing-key", envelope)]),
      cli(["decrypt", "--key", "local://alpha", "-i", join(directory, "no-such-file")]),
      cli(["encrypt", "--key", "nope://x"], plaintext),
      cli(["decrypt", "--key", "local://alpha", "--bogus-option"], envelope),
      cli(["keys", "rotate", "missing"]),
    ];
    cli(["keys", "disable", "alpha"]);
    outputs.push(cli(["decrypt", "--key", "local://alpha", "-i", file("disabled", envelope)]));
    cli(["keys", "enable", "alpha"]);
    // A torn edit in the middle of key material, then every command that reads the keystore.
    const keystoreText = readFileSync(keystorePath, "utf8");
    const material = /"material": "([^"]+)"/.exec(keystoreText)![1]!;
    const secrets = secretsNow(envelope, dek!);
    writeFileSync(
      keystorePath,
      keystoreText.replace(material, `${material.slice(0, 22)}"${material.slice(22)}`),
    );
    outputs.push(cli(["decrypt", "--key", "local://alpha", "-i", file("torn", envelope)]));
    outputs.push(cli(["keys", "list"]));
    const keystoreErrors = [await caught(() => openKeystore({ path: keystorePath }).list())];
    writeFileSync(keystorePath, keystoreText);
    // An audit log that cannot be written.
    const auditPath = keystore.auditLogPath;
    const auditText = readFileSync(auditPath, "utf8");
    rmSync(auditPath);
    mkdirSync(auditPath);
    outputs.push(cli(["decrypt", "--key", "local://alpha", "-i", file("no-audit", envelope)]));
    keystoreErrors.push(await caught(() => openKeystore({ path: keystorePath }).rotate("alpha")));
    keystoreErrors.push(
      await caught(() => decrypt(envelope, { keyring: createKeyring({ primary: keystore.kek("alpha") }) })),
    );
    rmSync(auditPath, { recursive: true });
    writeFileSync(auditPath, `${auditText}{"time":"torn`);
    const audit = cli(["keys", "audit"]);
    expect(audit.status).toBe(0);
    expect(audit.out.toString()).toContain("damaged; skipped");

    expect(outputs.every((output) => output.status !== 0)).toBe(true);
    expect(outputs.every((output) => output.out.toString().includes("kms-envelope: error"))).toBe(true);
    expect(keystoreErrors.every((error) => error instanceof EnvelopeError)).toBe(true);
    expectNoLeaks("CLI output on bad inputs", [...outputs.map((output) => output.out), audit.out], secrets);
    expectNoLeaks("keystore errors", keystoreErrors, secrets);
    expectNoLeaks("audit log", [readFileSync(auditPath)], secrets);
  });
});
