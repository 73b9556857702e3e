import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
  ReEncryptCommand,
} from "@aws-sdk/client-kms";
import {
  DEK_LENGTH,
  type EncryptionContext,
  EnvelopeError,
  type KeyEncryptionKey,
  throwIfAborted,
  type WrappedKeyEntry,
} from "@kms-envelope/core";
import { isSameMultiRegionKey, parseKmsArn } from "./arn.js";
import { createKeyResolver } from "./key-resolver.js";
import { createKmsSender } from "./kms-send.js";
import { rsaOpen, rsaWrap } from "./rsa-wrap.js";

export const AWS_KMS_PROVIDER = "aws-kms";

export type AwsKmsEncryptionAlgorithm = "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256";

export interface AwsKmsKekOptions {
  /** Key id, key ARN, alias name ("alias/…") or alias ARN. Envelopes always record the key ARN. */
  keyId: string;
  /** A client to use; otherwise one is created on first use with the SDK's default credential chain. */
  client?: KMSClient | undefined;
  /** Region of the created client; defaults to the ARN's region, then the SDK's (AWS_REGION…). */
  region?: string | undefined;
  /** Retry attempts of the created client, first call included (SDK default 3). */
  maxAttempts?: number | undefined;
  /** Retry strategy of the created client (SDK default "standard"). */
  retryMode?: "standard" | "adaptive" | undefined;
  /** Anything else for the created client (endpoint, credentials, requestHandler…). */
  clientConfig?: KMSClientConfig | undefined;
  grantTokens?: readonly string[] | undefined;
  /**
   * "RSAES_OAEP_SHA_256" for an RSA ENCRYPT_DECRYPT key: wrap locally with its
   * public key (only kms:GetPublicKey needed), unwrap with Decrypt.
   */
  encryptionAlgorithm?: AwsKmsEncryptionAlgorithm | undefined;
  /** Also unwrap entries made by other-region copies of this multi-Region (mrk-) key. */
  mrkAware?: boolean | undefined;
}

/**
 * A KEK in AWS KMS. Symmetric keys: GenerateDataKey as primary, Encrypt as
 * an extra KEK, Decrypt with the KeyId pinned and the envelope's context as
 * EncryptionContext, ReEncrypt to re-wrap. RSA keys: local RSA-OAEP wrap,
 * Decrypt to unwrap. KMS's reported KeyId is checked on every answer.
 */
export function createAwsKmsKek(options: AwsKmsKekOptions): KeyEncryptionKey {
  const configured = options.keyId;
  if (typeof configured !== "string" || configured.trim() !== configured || configured.length === 0) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      "an AWS KMS KEK needs a keyId (key id, key ARN, alias name or alias ARN)",
    );
  }
  const algorithm = options.encryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
  if (algorithm !== "SYMMETRIC_DEFAULT" && algorithm !== "RSAES_OAEP_SHA_256") {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `unsupported AWS KMS encryption algorithm "${String(algorithm)}"`,
    );
  }
  const clientOwnOptions = options.maxAttempts ?? options.retryMode ?? options.clientConfig ?? options.region;
  if (options.client !== undefined && clientOwnOptions !== undefined) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      "region, maxAttempts, retryMode and clientConfig configure a created client: set them on the client you pass instead",
    );
  }
  const rsa = algorithm === "RSAES_OAEP_SHA_256";
  const grantTokens = options.grantTokens === undefined ? undefined : [...options.grantTokens];
  const mrkAware = options.mrkAware ?? false;

  let client = options.client;
  const getClient = () => {
    client ??= new KMSClient({
      ...options.clientConfig,
      ...defined("region", options.region ?? options.clientConfig?.region ?? parseKmsArn(configured)?.region),
      ...defined("maxAttempts", options.maxAttempts),
      ...defined("retryMode", options.retryMode),
    });
    return client;
  };

  const send = createKmsSender(getClient);
  const resolver = createKeyResolver({ keyId: configured, algorithm, grantTokens, send });
  const resolve = resolver.resolve;

  const matchesArn = (arn: string, keyId: string) =>
    keyId === arn || (mrkAware && isSameMultiRegionKey(keyId, arn));

  function checkReported(operation: string, reported: string | undefined, arn: string): void {
    if (reported !== arn) {
      throw new EnvelopeError(
        "KEY_ID_MISMATCH",
        `AWS KMS ${operation} used ${reported ?? "an unnamed key"}, not ${arn}`,
      );
    }
  }

  function dekFrom(operation: string, plaintext: Uint8Array | undefined, arn: string): Uint8Array {
    if (plaintext?.length !== DEK_LENGTH) {
      plaintext?.fill(0);
      throw new EnvelopeError(
        "KMS_INTEGRITY",
        `AWS KMS ${operation} with ${arn} returned a data key of the wrong length`,
      );
    }
    return plaintext;
  }

  const kmsContext = (context: EncryptionContext) => ({ ...context });

  const kek: KeyEncryptionKey = {
    provider: AWS_KMS_PROVIDER,
    keyId: configured,

    async wrap(dek, context, callOptions) {
      const signal = callOptions?.signal;
      const { arn, publicKey } = await resolve(signal);
      if (publicKey !== undefined) {
        throwIfAborted(signal);
        return { keyId: arn, wrapped: rsaWrap(publicKey, dek, context) };
      }
      const out = await send("Encrypt", arn, signal, (kms, o) =>
        kms.send(
          new EncryptCommand({
            KeyId: arn,
            Plaintext: dek,
            EncryptionContext: kmsContext(context),
            GrantTokens: grantTokens,
          }),
          o,
        ),
      );
      checkReported("Encrypt", out.KeyId, arn);
      return { keyId: arn, wrapped: ciphertextOf("Encrypt", out.CiphertextBlob, arn) };
    },

    async unwrap(entry, context, callOptions) {
      const signal = callOptions?.signal;
      const arn = await resolver.arn(signal);
      if (entry.provider !== AWS_KMS_PROVIDER || !matchesArn(arn, entry.keyId)) {
        throw new EnvelopeError("KEY_ID_MISMATCH", `entry was wrapped by ${entry.keyId}, not ${arn}`);
      }
      const out = await send("Decrypt", arn, signal, (kms, o) =>
        kms.send(
          new DecryptCommand(
            rsa
              ? {
                  KeyId: arn,
                  CiphertextBlob: entry.wrapped,
                  EncryptionAlgorithm: algorithm,
                  GrantTokens: grantTokens,
                }
              : {
                  KeyId: arn,
                  CiphertextBlob: entry.wrapped,
                  EncryptionContext: kmsContext(context),
                  GrantTokens: grantTokens,
                },
          ),
          o,
        ),
      );
      try {
        checkReported("Decrypt", out.KeyId, arn);
      } catch (error) {
        out.Plaintext?.fill(0);
        throw error;
      }
      if (rsa) return rsaOpen(out.Plaintext ?? new Uint8Array(0), context);
      return dekFrom("Decrypt", out.Plaintext, arn);
    },

    async matches(entry) {
      if (entry.provider !== AWS_KMS_PROVIDER) return false;
      const known = resolver.resolved();
      if (known !== undefined) return matchesArn(known, entry.keyId);
      try {
        return matchesArn(await resolver.arn(undefined), entry.keyId);
      } catch {
        // Unresolvable (denied, throttled…): let unwrap report why, under a typed code.
        return true;
      }
    },

    async reencrypt(entry: WrappedKeyEntry, context, callOptions) {
      const signal = callOptions?.signal;
      const source = parseKmsArn(entry.keyId);
      // ReEncrypt works inside one region; and an RSA destination's wrapped form is our own (rsa-wrap.ts).
      if (rsa || entry.provider !== AWS_KMS_PROVIDER || source?.resourceType !== "key") return undefined;
      const arn = await resolver.arn(signal);
      if (source.region !== parseKmsArn(arn)?.region) return undefined;
      const out = await send("ReEncrypt", arn, signal, (kms, o) =>
        kms.send(
          new ReEncryptCommand({
            CiphertextBlob: entry.wrapped,
            SourceKeyId: entry.keyId,
            SourceEncryptionContext: kmsContext(context),
            DestinationKeyId: arn,
            DestinationEncryptionContext: kmsContext(context),
            GrantTokens: grantTokens,
          }),
          o,
        ),
      );
      checkReported("ReEncrypt", out.SourceKeyId, entry.keyId);
      checkReported("ReEncrypt", out.KeyId, arn);
      return { keyId: arn, wrapped: ciphertextOf("ReEncrypt", out.CiphertextBlob, arn) };
    },
  };

  if (!rsa) {
    kek.generateDataKey = async (context, callOptions) => {
      const signal = callOptions?.signal;
      const arn = await resolver.arn(signal);
      const out = await send("GenerateDataKey", arn, signal, (kms, o) =>
        kms.send(
          new GenerateDataKeyCommand({
            KeyId: arn,
            NumberOfBytes: DEK_LENGTH,
            EncryptionContext: kmsContext(context),
            GrantTokens: grantTokens,
          }),
          o,
        ),
      );
      try {
        checkReported("GenerateDataKey", out.KeyId, arn);
        const wrapped = ciphertextOf("GenerateDataKey", out.CiphertextBlob, arn);
        return { keyId: arn, wrapped, plaintext: dekFrom("GenerateDataKey", out.Plaintext, arn) };
      } catch (error) {
        out.Plaintext?.fill(0);
        throw error;
      }
    };
  }
  return Object.freeze(kek);
}

function ciphertextOf(operation: string, blob: Uint8Array | undefined, arn: string): Uint8Array {
  if (blob === undefined || blob.length === 0) {
    throw new EnvelopeError("KMS_INTEGRITY", `AWS KMS ${operation} with ${arn} returned no ciphertext`);
  }
  return blob;
}

/** `{ [name]: value }` when value is defined, `{}` otherwise (exactOptionalPropertyTypes). */
function defined<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}
