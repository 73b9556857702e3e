import { createPublicKey, type KeyObject } from "node:crypto";
import { DescribeKeyCommand, GetPublicKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { checkReportedKey, createPromiseCache, EnvelopeError, untilAborted } from "@kms-envelope/core";
import { isKeyArn } from "./arn.js";

/** One KMS call through the kit with the KEK's client; `run` gets the client and the send options. */
export type KmsSend = <T>(
  operation: string,
  keyId: string,
  signal: AbortSignal | undefined,
  run: (client: KMSClient, sendOptions: { abortSignal?: AbortSignal }) => Promise<T>,
) => Promise<T>;

/** The key ARN and, for RSA keys only, the public key every wrap uses. */
export interface ResolvedKey {
  readonly arn: string;
  readonly publicKey?: KeyObject;
}

/**
 * What a configured key id stands for, looked up once and shared: a key ARN
 * needs no call; an alias or bare key id is resolved with DescribeKey; an
 * RSA key's ARN and public key come from GetPublicKey (the one permission a
 * write-only service needs). Failures are not kept.
 */
export function createKeyResolver(options: {
  keyId: string;
  rsa: boolean;
  grantTokens: string[] | undefined;
  send: KmsSend;
}) {
  const { keyId, rsa, grantTokens, send } = options;
  const known = isKeyArn(keyId) ? keyId : undefined;

  async function publicKeyOf(): Promise<ResolvedKey> {
    const out = await send("GetPublicKey", keyId, undefined, (kms, sendOptions) =>
      kms.send(new GetPublicKeyCommand({ KeyId: keyId, GrantTokens: grantTokens }), sendOptions),
    );
    // EncryptionAlgorithms is documented to appear only for ENCRYPT_DECRYPT keys; where an answer
    // lacks it, KeyUsage decides (every RSA ENCRYPT_DECRYPT key spec offers RSAES_OAEP_SHA_256).
    const offered =
      out.EncryptionAlgorithms === undefined
        ? out.KeyUsage === "ENCRYPT_DECRYPT"
        : out.EncryptionAlgorithms.includes("RSAES_OAEP_SHA_256");
    if (!out.KeySpec?.startsWith("RSA_") || !offered) {
      const usage =
        out.EncryptionAlgorithms === undefined && out.KeyUsage === undefined
          ? "names neither its encryption algorithms nor its key usage"
          : "does not offer RSAES_OAEP_SHA_256";
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${keyId} is a ${out.KeySpec ?? "unknown"} key that ${usage}`,
      );
    }
    if (out.KeyId === undefined || !isKeyArn(out.KeyId) || out.PublicKey === undefined) {
      throw new EnvelopeError(
        "KMS_INTEGRITY",
        `AWS KMS GetPublicKey for ${keyId} returned no key ARN or public key`,
      );
    }
    if (known !== undefined) checkReportedKey("AWS KMS", "GetPublicKey", out.KeyId, known);
    return {
      arn: out.KeyId,
      publicKey: createPublicKey({ key: Buffer.from(out.PublicKey), format: "der", type: "spki" }),
    };
  }

  async function describe(): Promise<ResolvedKey> {
    const out = await send("DescribeKey", keyId, undefined, (kms, sendOptions) =>
      kms.send(new DescribeKeyCommand({ KeyId: keyId, GrantTokens: grantTokens }), sendOptions),
    );
    const metadata = out.KeyMetadata;
    if (metadata?.Arn === undefined || !isKeyArn(metadata.Arn)) {
      throw new EnvelopeError("KMS_INTEGRITY", `AWS KMS DescribeKey for ${keyId} returned no key ARN`);
    }
    if (metadata.KeySpec !== "SYMMETRIC_DEFAULT" || metadata.KeyUsage !== "ENCRYPT_DECRYPT") {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${keyId} is a ${metadata.KeySpec} ${metadata.KeyUsage} key: set encryptionAlgorithm for an RSA key`,
      );
    }
    return { arn: metadata.Arn };
  }

  // The shared look-up carries no caller's signal: one caller giving up fails no other.
  const lookups = createPromiseCache(() => (rsa ? publicKeyOf() : describe()));
  return {
    /** The key ARN and, for RSA keys, the public key. */
    resolve: (signal: AbortSignal | undefined): Promise<ResolvedKey> =>
      known !== undefined && !rsa
        ? untilAborted(Promise.resolve({ arn: known }), signal)
        : lookups.get(undefined, signal),
    /** Only the key ARN: no call when configured with one (an RSA reader needs no kms:GetPublicKey). */
    arn: async (signal: AbortSignal | undefined): Promise<string> =>
      known ?? lookups.peek(undefined)?.arn ?? (await lookups.get(undefined, signal)).arn,
  };
}
