import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { productionClosure } from "@kms-envelope/conformance";
import { expect, it } from "vitest";

const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));

it("the production dependency closure holds no other cloud SDK or provider package", async () => {
  const closure = productionClosure(PACKAGE);
  expect(closure.size).toBeGreaterThan(20); // the walk really followed the SDK's own dependencies
  expect(closure.has("@aws-sdk/client-kms")).toBe(true);
  expect(closure.has("@kms-envelope/core")).toBe(true);
  const foreign = [...closure].filter(
    (name) =>
      /^@(google-cloud|googleapis|azure|azure-rest|grpc)\//.test(name) ||
      /^(google-gax|google-auth-library|gcp-metadata)$/.test(name) ||
      (name.startsWith("@kms-envelope/") && name !== "@kms-envelope/core"),
  );
  expect(foreign).toEqual([]);
});

it("the source imports only core, the KMS client and node: built-ins", async () => {
  const sources = (await readdir(join(PACKAGE, "src"))).filter((file) => file.endsWith(".ts"));
  for (const file of sources) {
    const text = await readFile(join(PACKAGE, "src", file), "utf8");
    for (const [, specifier] of text.matchAll(/from "([^"]+)"/g)) {
      expect(specifier, `${file} imports ${specifier}`).toMatch(
        /^(\.\/.*\.js|node:.*|@kms-envelope\/core|@aws-sdk\/client-kms)$/,
      );
    }
  }
});
