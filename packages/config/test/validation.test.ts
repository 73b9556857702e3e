import { readFileSync } from "node:fs";
import {
  createKeyUriRegistry,
  EnvelopeError,
  type KeyEncryptionKey,
  type KeyUriProvider,
} from "@kms-envelope/core";
import { localKeyUriProvider } from "@kms-envelope/local";
import { describe, expect, it } from "vitest";
import {
  checkConfig,
  checkRequiredContext,
  configJsonSchema,
  describeConfig,
  findConfigFile,
  keyringFromConfig,
  keyringFromKeys,
  parseConfig,
  parseKeySpecs,
  selectProfile,
} from "../src/index.js";

const FILE = "/project/kms-envelope.yaml";

function failure(text: string): EnvelopeError {
  try {
    parseConfig(text, { file: FILE });
  } catch (error) {
    return error as EnvelopeError;
  }
  throw new Error("parseConfig accepted the text");
}

describe("strict validation names file, line, column and the nearest valid name", () => {
  it("a misspelt provider setting", () => {
    const error = failure(
      [
        "profiles:",
        "  dev:",
        "    encrypt: [local://app]",
        "    providers:",
        "      local:",
        "        keystor: k.json",
      ].join("\n"),
    );
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      `${FILE}:6:9: unknown field "keystor" in "profiles.dev.providers.local" (did you mean "keystore"?) (valid: keystore)`,
    );
  });

  it("a provider scheme that does not exist", () => {
    const error = failure(
      "profiles:\n  dev:\n    encrypt: [local://app]\n    providers:\n      aws: { region: eu-west-1 }\n",
    );
    expect(error.message).toMatch(
      /^\/project\/kms-envelope\.yaml:5:7: unknown field "aws" in "profiles\.dev\.providers"/,
    );
    expect(error.message).toContain("valid: aws-kms, gcp-kms, azure-keyvault, local");
  });

  it("an unknown profile field, and a wrong type", () => {
    expect(failure("profiles:\n  dev:\n    encrpyt: [local://app]\n").message).toBe(
      `${FILE}:3:5: unknown field "encrpyt" in "profiles.dev" (did you mean "encrypt"?) (valid: description, encrypt, decrypt, context, requireContext, discovery, providers, cache, limits)`,
    );
    expect(failure("profiles:\n  dev:\n    encrypt: local://app\n").message).toBe(
      `${FILE}:3:14: "profiles.dev.encrypt" must be a list`,
    );
    expect(
      failure(
        "profiles:\n  dev:\n    encrypt: [local://app]\n    providers: { aws-kms: { maxAttempts: 0 } }\n",
      ).message,
    ).toBe(`${FILE}:4:42: "profiles.dev.providers.aws-kms.maxAttempts" must be between 1 and 20`);
    expect(
      failure(
        "profiles:\n  dev:\n    encrypt: [local://app]\n    providers: { gcp-kms: { transport: grcp } }\n",
      ).message,
    ).toContain('must be one of grpc, rest (did you mean "grpc"?)');
  });

  it("JSON gets line and column too, and a duplicate key is an error", () => {
    const json = '{\n  "profiles": {\n    "dev": { "encrypt": ["local://a"], "context": { "a": 1 } }\n  }\n}';
    expect(failure(json).message).toBe(`${FILE}:3:58: "profiles.dev.context.a" must be a string (quote it)`);
    expect(
      failure("profiles:\n  a: { encrypt: [local://x] }\n  a: { encrypt: [local://y] }\n").message,
    ).toMatch(/^\/project\/kms-envelope\.yaml:3:3: not valid YAML or JSON: Map keys must be unique/);
  });

  it("semantic errors: bad URIs, repeated keys, empty profiles, unknown profile references, bad rules", () => {
    expect(failure("profiles:\n  dev:\n    encrypt: [app]\n").message).toBe(
      `${FILE}:3:15: "profiles.dev.encrypt[0]" is not a key URI (scheme://location)`,
    );
    expect(failure("profiles:\n  dev:\n    encrypt: [local://a]\n    decrypt: [local://a]\n").message).toBe(
      `${FILE}:4:15: "profiles.dev.decrypt[0]" repeats profiles.dev.encrypt[0]`,
    );
    expect(failure("profiles:\n  dev:\n    context: { a: b }\n").message).toBe(
      `${FILE}:3:5: "profiles.dev" needs "encrypt" or "decrypt" keys, or "discovery"`,
    );
    expect(failure("default: prdo\nprofiles:\n  prod: { encrypt: [local://a] }\n").message).toBe(
      `${FILE}:1:10: no profile named "prdo" (did you mean "prod"?)`,
    );
    expect(
      failure(
        "profiles:\n  prod: { encrypt: [local://a] }\nrules:\n  - { path: a/**, pathRegex: a, profile: prod }\n",
      ).message,
    ).toBe(`${FILE}:4:5: "rules[0]" needs exactly one of "path" (a glob) or "pathRegex"`);
    expect(
      failure("profiles:\n  prod: { encrypt: [local://a] }\nrules:\n  - { pathRegex: '(', profile: prod }\n")
        .message,
    ).toBe(`${FILE}:4:18: "rules[0].pathRegex" is not a valid regular expression`);
  });

  it("a URI whose provider is not registered names the package and where the URI is", async () => {
    const config = parseConfig(
      "profiles:\n  p:\n    encrypt:\n      - local://a\n      - gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k\n",
      {
        file: FILE,
      },
    );
    await expect(
      keyringFromConfig({ config, registry: createKeyUriRegistry([localKeyUriProvider]), env: {} }),
    ).rejects.toMatchObject({
      code: "PROVIDER_NOT_INSTALLED",
      message: expect.stringMatching(
        /^\/project\/kms-envelope\.yaml:5:9: gcp-kms:\/\/.*keys need @kms-envelope\/gcp-kms/,
      ),
    });
  });
});

describe("key lists", () => {
  it("decrypt: marks decrypt-only keys; order is kept; repeats and non-URIs are refused", () => {
    expect(
      parseKeySpecs(
        "local://a decrypt:local://b,local://c\ndecrypt:aws-kms://arn:aws:kms:eu-west-1:111122223333:key/k",
      ),
    ).toEqual({
      encrypt: ["local://a", "local://c"],
      decrypt: ["local://b", "aws-kms://arn:aws:kms:eu-west-1:111122223333:key/k"],
    });
    expect(parseKeySpecs(["local://a", "decrypt:local://b"])).toEqual({
      encrypt: ["local://a"],
      decrypt: ["local://b"],
    });
    expect(() => parseKeySpecs("local://a decrypt:local://a")).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => parseKeySpecs("decrypt:app")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => parseKeySpecs(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});

describe("the published JSON Schema", () => {
  it("schema.json is what configJsonSchema() generates (regenerate with pnpm schema)", () => {
    const shipped = JSON.parse(readFileSync(new URL("../schema.json", import.meta.url), "utf8"));
    expect(shipped).toEqual(configJsonSchema());
  });

  it("lists exactly the provider settings the loader accepts", () => {
    const schema = configJsonSchema() as {
      properties: {
        profiles: { additionalProperties: { properties: Record<string, { properties: object }> } };
      };
    };
    const providers = schema.properties.profiles.additionalProperties.properties.providers!
      .properties as Record<string, { properties: object; additionalProperties: boolean }>;
    expect(Object.keys(providers["aws-kms"]!.properties)).toEqual([
      "region",
      "endpoint",
      "profile",
      "maxAttempts",
      "retryMode",
      "insecureTestCredentials",
    ]);
    expect(providers.local).toMatchObject({ additionalProperties: false });
  });
});

describe("config check and config show, without opening a key", () => {
  const text = [
    "default: dev",
    "profiles:",
    "  dev:",
    "    encrypt: [local://app]",
    "    providers: { local: { keystore: keys.json } }",
    "  prod:",
    "    encrypt:",
    "      - gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
    "    decrypt: [vault-x://old, aws-kms://arn:aws:kms:eu-west-1:111122223333:key/k]",
    "rules:",
    "  - { path: prod/**, profile: prod }",
  ].join("\n");

  it("checkConfig lists every URI whose provider is missing, in file order, naming the package", () => {
    const config = parseConfig(text, { file: FILE });
    const problems = checkConfig(config, createKeyUriRegistry([localKeyUriProvider]));
    expect(problems.map((problem) => [problem.code, problem.message])).toEqual([
      [
        "PROVIDER_NOT_INSTALLED",
        `${FILE}:8:9: gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k: "gcp-kms://" keys need @kms-envelope/gcp-kms`,
      ],
      ["INVALID_ARGUMENT", `${FILE}:9:15: vault-x://old: unknown key URI scheme "vault-x://"`],
      [
        "PROVIDER_NOT_INSTALLED",
        `${FILE}:9:30: aws-kms://arn:aws:kms:eu-west-1:111122223333:key/k: "aws-kms://" keys need @kms-envelope/aws-kms`,
      ],
    ]);
    expect(
      checkConfig(
        parseConfig("profiles: { a: { encrypt: [local://x] } }", { file: FILE }),
        createKeyUriRegistry([localKeyUriProvider]),
      ),
    ).toEqual([]);
  });

  it("describeConfig says which profile, chosen how, with its keys and settings (paths resolved)", () => {
    const config = parseConfig(text, { file: FILE });
    expect(describeConfig(config, { env: {}, filePath: "/project/prod/db.json" })).toEqual({
      source: "config",
      file: FILE,
      foundBy: "text",
      profile: "prod",
      chosenBy: "rule",
      rule: { index: 0, pattern: "prod/**", kind: "glob" },
      encrypt: ["gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k"],
      decrypt: ["vault-x://old", "aws-kms://arn:aws:kms:eu-west-1:111122223333:key/k"],
      context: {},
      requireContext: [],
      providers: {},
    });
    expect(describeConfig(config, { env: {} })).toMatchObject({
      profile: "dev",
      chosenBy: "default",
      providers: { local: { keystore: "/project/keys.json" } },
    });
  });
});

describe("opening a profile's keys", () => {
  it("a key that fails to open closes the ones that did, and reports the failure with its location", async () => {
    const closed: string[] = [];
    const provider: KeyUriProvider = {
      scheme: "probe",
      provider: "probe",
      open(location) {
        if (location === "broken") throw new EnvelopeError("KEY_NOT_FOUND", "no such key");
        return {
          provider: "probe",
          keyId: location,
          wrap: async () => new Uint8Array(0),
          unwrap: async () => new Uint8Array(32),
          close: async () => {
            closed.push(location);
          },
        } as unknown as KeyEncryptionKey;
      },
    };
    const config = parseConfig(
      "profiles:\n  p:\n    encrypt: [probe://a]\n    decrypt: [probe://b, probe://broken]\n",
      {
        file: FILE,
      },
    );
    await expect(
      keyringFromConfig({ config, registry: createKeyUriRegistry([provider]), env: {} }),
    ).rejects.toMatchObject({
      code: "KEY_NOT_FOUND",
      message: `${FILE}:4:26: probe://broken: no such key`,
    });
    expect(closed.sort()).toEqual(["a", "b"]);
  });
});

describe("arguments", () => {
  it("every public function refuses what is not its argument with INVALID_ARGUMENT", async () => {
    const invalid = expect.objectContaining({ code: "INVALID_ARGUMENT" });
    expect(() => parseConfig(42 as unknown as string, { file: FILE })).toThrow(invalid);
    expect(() => parseConfig("profiles: {}", undefined as unknown as { file: string })).toThrow(invalid);
    expect(() => selectProfile(undefined as never)).toThrow(invalid);
    expect(() => describeConfig(null as never)).toThrow(invalid);
    expect(() =>
      checkConfig(parseConfig("profiles: { a: { encrypt: [local://a] } }", { file: FILE }), {} as never),
    ).toThrow(invalid);
    await expect(keyringFromConfig(undefined as never)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      keyringFromConfig({
        config: parseConfig("profiles: { a: { encrypt: [local://a] } }", { file: FILE }),
        registry: {} as never,
      }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(keyringFromKeys({ registry: createKeyUriRegistry([]), env: {} })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "no key given (KMS_ENVELOPE_KEYS is empty or unset)",
    });
    expect(() => checkRequiredContext(null as never, [])).toThrow(invalid);
    expect(() => findConfigFile(null as never)).toThrow(invalid);
  });
});
