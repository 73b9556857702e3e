/** The three things compared: raw AES-256-GCM (the limit), the AWS Encryption SDK (the peer), kms-envelope. */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from "node:crypto";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from "@aws-crypto/client-node";
import { createKeyring, decrypt, encrypt } from "@kms-envelope/core";
import { createLocalKek } from "@kms-envelope/local";
import { baselineCore } from "./baseline.mjs";

const context = { purpose: "bench" };

/**
 * One-shot AES-256-GCM with a fixed key: no key management, no framing. The
 * ceiling. The key is a KeyObject: on Node 24 raw key bytes add ~20 µs per
 * cipher, which would lower the ceiling and flatter every ratio to it.
 */
export function rawAesGcm() {
  const key = createSecretKey(randomBytes(32));
  const iv = randomBytes(12);
  return {
    name: "raw AES-256-GCM",
    async encrypt(plaintext) {
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const ciphertext = cipher.update(plaintext);
      cipher.final();
      return { ciphertext, tag: cipher.getAuthTag() };
    },
    async decrypt({ ciphertext, tag }) {
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAuthTag(tag);
      const plaintext = decipher.update(ciphertext);
      decipher.final();
      return plaintext;
    },
  };
}

function awsEsdk(name, suiteId) {
  const client = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new RawAesKeyringNode({
    keyName: "bench",
    keyNamespace: "bench",
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const options =
    suiteId === undefined ? { encryptionContext: context } : { encryptionContext: context, suiteId };
  return {
    name,
    async encrypt(plaintext) {
      return (await client.encrypt(keyring, plaintext, options)).result;
    },
    async decrypt(envelope) {
      return (await client.decrypt(keyring, envelope)).plaintext;
    },
  };
}

/** The SDK's default suite under REQUIRE_ENCRYPT_REQUIRE_DECRYPT: committing, ECDSA P-384 signed. */
export const awsDefault = () => awsEsdk("AWS ESDK default (signed)", undefined);
/** The committing suite without signatures: the closest peer to kms-envelope. */
export const awsCommitting = () =>
  awsEsdk(
    "AWS ESDK commit, no sig",
    AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  );

/** kms-envelope with a local KEK: one wrap per encrypt, one unwrap per decrypt. */
export function kmsEnvelope(frameLength) {
  const kek = createLocalKek({ key: randomBytes(32), keyId: "bench" });
  const keyring = createKeyring({ primary: kek });
  const name =
    frameLength === undefined ? "kms-envelope (local KEK)" : `kms-envelope frames ${frameLength / 1024} KiB`;
  return {
    name,
    async encrypt(plaintext) {
      return encrypt(plaintext, { keyring, context, frameLength });
    },
    async decrypt(envelope) {
      return (await decrypt(envelope, { keyring, expectedContext: context })).plaintext;
    },
  };
}

/**
 * The same as `kmsEnvelope` over another build of core (BENCH_BASELINE, see
 * baseline.mjs): before and after a change, measured in one run.
 */
export function kmsEnvelopeBaseline() {
  if (baselineCore === undefined) throw new Error("BENCH_BASELINE is not set");
  const kek = createLocalKek({ key: randomBytes(32), keyId: "bench" });
  const keyring = baselineCore.createKeyring({ primary: kek });
  return {
    name: "kms-envelope baseline",
    async encrypt(plaintext) {
      return baselineCore.encrypt(plaintext, { keyring, context });
    },
    async decrypt(envelope) {
      return (await baselineCore.decrypt(envelope, { keyring, expectedContext: context })).plaintext;
    },
  };
}

/** By name, for worker threads that build their contender from a name and arguments. */
export const contenderFactories = Object.freeze({
  rawAesGcm,
  awsDefault,
  awsCommitting,
  kmsEnvelope,
  kmsEnvelopeBaseline,
});
