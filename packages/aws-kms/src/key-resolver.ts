import { createPublicKey, type KeyObject } from "node:crypto";
import { DescribeKeyCommand, GetPublicKeyCommand } from "@aws-sdk/client-kms";
import { EnvelopeError, throwIfAborted } from "@kms-envelope/core";
import { isKeyArn } from "./arn.js";
import type { KmsSender } from "./kms-send.js";

export interface ResolvedKey {
  readonly arn: string;
  /** Only for RSA keys: the public key every wrap uses. */
  readonly publicKey?: KeyObject;
}

export interface KeyResolverOptions {
  keyId: string;
  algorithm: "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256";
  grantTokens: string[] | undefined;
  send: KmsSender;
}

export interface KeyResolver {
  /** The key ARN and, for RSA keys, the public key. */
  resolve(signal: AbortSignal | undefined): Promise<ResolvedKey>;
  /** Only the key ARN: no call when configured with one (an RSA reader needs no kms:GetPublicKey). */
  arn(signal: AbortSignal | undefined): Promise<string>;
  /** The key ARN once known, without a call. */
  resolved(): string | undefined;
}

/**
 * What a configured key id stands for, looked up once and cached: a key ARN
 * needs no call; an alias or bare key id is resolved with DescribeKey; an
 * RSA key's ARN and public key come from GetPublicKey (the one permission a
 * write-only service needs). Failures are not cached.
 */
export function createKeyResolver(options: KeyResolverOptions): KeyResolver {
  const { keyId, algorithm, grantTokens, send } = options;
  const rsa = algorithm === "RSAES_OAEP_SHA_256";
  const known = isKeyArn(keyId) ? keyId : undefined;
  // A symmetric key ARN is all there is to know; an RSA key still needs its public key to wrap.
  let resolving: Promise<ResolvedKey> | undefined =
    known === undefined || rsa ? undefined : Promise.resolve({ arn: known });
  let resolvedArn = known;

  async function publicKeyOf(signal: AbortSignal | undefined): Promise<ResolvedKey> {
    const out = await send("GetPublicKey", keyId, signal, (kms, o) =>
      kms.send(new GetPublicKeyCommand({ KeyId: keyId, GrantTokens: grantTokens }), o),
    );
    if (!out.KeySpec?.startsWith("RSA_") || !out.EncryptionAlgorithms?.includes(algorithm)) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${keyId} is a ${out.KeySpec ?? "unknown"} key that does not offer ${algorithm}`,
      );
    }
    if (out.KeyId === undefined || !isKeyArn(out.KeyId) || out.PublicKey === undefined) {
      throw new EnvelopeError(
        "KMS_INTEGRITY",
        `AWS KMS GetPublicKey for ${keyId} returned no key ARN or public key`,
      );
    }
    if (known !== undefined && out.KeyId !== known) {
      throw new EnvelopeError(
        "KEY_ID_MISMATCH",
        `AWS KMS GetPublicKey answered for ${out.KeyId}, not ${known}`,
      );
    }
    return {
      arn: out.KeyId,
      publicKey: createPublicKey({ key: Buffer.from(out.PublicKey), format: "der", type: "spki" }),
    };
  }

  async function describe(signal: AbortSignal | undefined): Promise<ResolvedKey> {
    const out = await send("DescribeKey", keyId, signal, (kms, o) =>
      kms.send(new DescribeKeyCommand({ KeyId: keyId, GrantTokens: grantTokens }), o),
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

  const resolver: KeyResolver = {
    resolved: () => resolvedArn,
    arn: async (signal) => {
      if (resolvedArn !== undefined) return resolvedArn;
      return (await resolver.resolve(signal)).arn;
    },
    async resolve(signal) {
      for (;;) {
        throwIfAborted(signal);
        if (resolving === undefined) {
          resolving = (rsa ? publicKeyOf(signal) : describe(signal)).then(
            (resolved) => {
              resolvedArn = resolved.arn;
              return resolved;
            },
            (error: unknown) => {
              resolving = undefined; // a throttled, denied or aborted look-up is tried again next time
              throw error;
            },
          );
        }
        try {
          return await resolving;
        } catch (error) {
          // Another caller's signal aborted the shared look-up; ours has not fired, so look up again.
          if (error instanceof EnvelopeError && error.code === "ABORTED" && signal?.aborted !== true)
            continue;
          throw error;
        }
      }
    },
  };
  return resolver;
}
