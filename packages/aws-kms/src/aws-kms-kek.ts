import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
  ReEncryptCommand,
} from "@aws-sdk/client-kms";
import {
  abortSignalOption,
  checkClientSettings,
  checkDataKey,
  checkEntryOwner,
  checkReportedKey,
  checkWrappedKey,
  createKmsCaller,
  createOwnedClient,
  DEK_LENGTH,
  type EncryptionContext,
  EnvelopeError,
  type KeyEncryptionKey,
  throwIfAborted,
} from "@kms-envelope/core";
import { isSameMultiRegionKey, parseKmsArn } from "./arn.js";
import { awsKmsErrors } from "./errors.js";
import { createKeyResolver, type KmsSend } from "./key-resolver.js";
import { rsaOpen, rsaWrap } from "./rsa-wrap.js";

export const AWS_KMS_PROVIDER = "aws-kms";

export type AwsKmsEncryptionAlgorithm = "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256";

/**
 * The static credentials `insecureTestCredentials` sends; `@kms-envelope/emulators`
 * accepts them (never a real service: only loopback endpoints may use them).
 */
export const AWS_INSECURE_TEST_CREDENTIALS = Object.freeze({
  accessKeyId: "KMSENVELOPETESTONLY",
  secretAccessKey: "insecure-test-credentials",
});

export interface AwsKmsKekOptions {
  /** Key id, key ARN, alias name ("alias/…") or alias ARN. Envelopes always record the key ARN. */
  keyId: string;
  /** A client to use; otherwise one is created on first use with the SDK's default credential chain. */
  client?: KMSClient | undefined;
  /** Region of the created client; defaults to the ARN's region, then AWS_REGION, then AWS_DEFAULT_REGION. */
  region?: string | undefined;
  /** Endpoint URL of the created client (a VPC endpoint, FIPS endpoint or emulator). */
  endpoint?: string | undefined;
  /** Shared config/credentials profile of the created client (else AWS_PROFILE, else "default"). */
  profile?: string | undefined;
  /** Retry attempts of the created client, first call included (SDK default 3). */
  maxAttempts?: number | undefined;
  /** Retry strategy of the created client (SDK default "standard"). */
  retryMode?: "standard" | "adaptive" | undefined;
  /** Static test credentials for an emulator; refused unless `endpoint` is loopback. */
  insecureTestCredentials?: boolean | undefined;
  /** Anything else for the created client (credentials, requestHandler…). */
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

const call = createKmsCaller({ service: "AWS KMS", classify: awsKmsErrors });

/**
 * A KEK in AWS KMS. Symmetric keys: GenerateDataKey as primary, Encrypt as
 * an extra KEK, Decrypt with the KeyId pinned and the envelope's context as
 * EncryptionContext, ReEncrypt to re-wrap. RSA keys: local RSA-OAEP wrap,
 * Decrypt to unwrap. KMS's reported KeyId is checked on every answer.
 */
export function createAwsKmsKek(options: AwsKmsKekOptions): KeyEncryptionKey {
  const configured = options?.keyId;
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
  const rsa = algorithm === "RSAES_OAEP_SHA_256";
  const grantTokens = options.grantTokens === undefined ? undefined : [...options.grantTokens];
  const mrkAware = options.mrkAware ?? false;
  const createClient = clientFactory(options, parseKmsArn(configured)?.region);
  // Only a client this KEK created is ours to close (its sockets); the next call makes a new one.
  const client = createOwnedClient(options.client, createClient, (own) => own.destroy());
  /** One KMS call through the kit (abort, deadline, error table) with this KEK's client. */
  const send: KmsSend = (operation, keyId, signal, run) =>
    call(operation, keyId, signal, async (abortSignal) =>
      run(await client.get(), abortSignalOption(abortSignal)),
    );
  const resolver = createKeyResolver({ keyId: configured, rsa, grantTokens, send });
  const sameKey = (arn: string, keyId: string) =>
    keyId === arn || (mrkAware && isSameMultiRegionKey(keyId, arn));
  const kmsContext = (context: EncryptionContext) => ({ ...context });
  /** What every symmetric call with the configured key carries. */
  const bound = (context: EncryptionContext) => ({
    EncryptionContext: kmsContext(context),
    GrantTokens: grantTokens,
  });

  const kek: KeyEncryptionKey = {
    provider: AWS_KMS_PROVIDER,
    keyId: configured,

    async wrap(dek, context, callOptions) {
      const signal = callOptions?.signal;
      const { arn, publicKey } = await resolver.resolve(signal);
      if (publicKey !== undefined) {
        throwIfAborted(signal);
        return { keyId: arn, wrapped: rsaWrap(publicKey, dek, context) };
      }
      const out = await send("Encrypt", arn, signal, (kms, sendOptions) =>
        kms.send(new EncryptCommand({ KeyId: arn, Plaintext: dek, ...bound(context) }), sendOptions),
      );
      checkReportedKey("AWS KMS", "Encrypt", out.KeyId, arn);
      return { keyId: arn, wrapped: checkWrappedKey(out.CiphertextBlob, `AWS KMS Encrypt with ${arn}`) };
    },

    async unwrap(entry, context, callOptions) {
      const signal = callOptions?.signal;
      const arn = await resolver.arn(signal);
      checkEntryOwner({ provider: AWS_KMS_PROVIDER, keyId: arn }, entry, sameKey);
      const input = {
        KeyId: arn,
        CiphertextBlob: entry.wrapped,
        GrantTokens: grantTokens,
        // An RSA key takes no EncryptionContext (rsa-wrap.ts binds the context instead).
        ...(rsa ? { EncryptionAlgorithm: algorithm } : { EncryptionContext: kmsContext(context) }),
      };
      const out = await send("Decrypt", arn, signal, (kms, sendOptions) =>
        kms.send(new DecryptCommand(input), sendOptions),
      );
      try {
        checkReportedKey("AWS KMS", "Decrypt", out.KeyId, arn);
      } catch (error) {
        out.Plaintext?.fill(0);
        throw error;
      }
      if (rsa) return rsaOpen(out.Plaintext ?? new Uint8Array(0), context);
      return checkDataKey(out.Plaintext, `AWS KMS Decrypt with ${arn}`);
    },

    async matches(entry) {
      if (entry.provider !== AWS_KMS_PROVIDER) return false;
      try {
        return sameKey(await resolver.arn(undefined), entry.keyId);
      } catch {
        // Unresolvable (denied, throttled…): let unwrap report why, under a typed code.
        return true;
      }
    },

    async reencrypt(entry, context, callOptions) {
      const signal = callOptions?.signal;
      const source = parseKmsArn(entry.keyId);
      // ReEncrypt works inside one region; and an RSA destination's wrapped form is our own (rsa-wrap.ts).
      if (rsa || entry.provider !== AWS_KMS_PROVIDER || source?.resourceType !== "key") return undefined;
      const arn = await resolver.arn(signal);
      if (source.region !== parseKmsArn(arn)?.region) return undefined;
      const out = await send("ReEncrypt", arn, signal, (kms, sendOptions) =>
        kms.send(
          new ReEncryptCommand({
            CiphertextBlob: entry.wrapped,
            SourceKeyId: entry.keyId,
            SourceEncryptionContext: kmsContext(context),
            DestinationKeyId: arn,
            DestinationEncryptionContext: kmsContext(context),
            GrantTokens: grantTokens,
          }),
          sendOptions,
        ),
      );
      checkReportedKey("AWS KMS", "ReEncrypt", out.SourceKeyId, entry.keyId);
      checkReportedKey("AWS KMS", "ReEncrypt", out.KeyId, arn);
      return { keyId: arn, wrapped: checkWrappedKey(out.CiphertextBlob, `AWS KMS ReEncrypt with ${arn}`) };
    },
  };

  if (!rsa) {
    kek.generateDataKey = async (context, callOptions) => {
      const signal = callOptions?.signal;
      const arn = await resolver.arn(signal);
      const out = await send("GenerateDataKey", arn, signal, (kms, sendOptions) =>
        kms.send(
          new GenerateDataKeyCommand({ KeyId: arn, NumberOfBytes: DEK_LENGTH, ...bound(context) }),
          sendOptions,
        ),
      );
      try {
        checkReportedKey("AWS KMS", "GenerateDataKey", out.KeyId, arn);
        const wrapped = checkWrappedKey(out.CiphertextBlob, `AWS KMS GenerateDataKey with ${arn}`);
        const plaintext = checkDataKey(out.Plaintext, `AWS KMS GenerateDataKey with ${arn}`);
        return { keyId: arn, wrapped, plaintext };
      } catch (error) {
        out.Plaintext?.fill(0);
        throw error;
      }
    };
  }
  kek.close = client.close;
  return Object.freeze(kek);
}

/**
 * How a KEK without an injected client makes one: every setting here
 * configures that client, so passing one next to `client` is an error.
 */
function clientFactory(options: AwsKmsKekOptions, arnRegion: string | undefined): () => KMSClient {
  const { clientConfig, region, endpoint, profile, maxAttempts, retryMode, insecureTestCredentials } =
    options;
  checkClientSettings({
    settings: { region, endpoint, profile, maxAttempts, retryMode, insecureTestCredentials, clientConfig },
    injected: options.client !== undefined,
    endpoint: endpoint ?? (typeof clientConfig?.endpoint === "string" ? clientConfig.endpoint : undefined),
    insecureTestCredentials,
  });
  const env = process.env;
  const own = {
    region: region ?? clientConfig?.region ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    endpoint,
    profile,
    maxAttempts,
    retryMode,
    credentials: insecureTestCredentials === true ? { ...AWS_INSECURE_TEST_CREDENTIALS } : undefined,
  };
  // Only what is set: an explicit undefined would hide the SDK's own default.
  const config = {
    ...clientConfig,
    ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)),
  };
  return () => new KMSClient(config);
}
