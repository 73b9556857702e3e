/**
 * The peer for the concurrent-decrypt figure: the AWS Encryption SDK for
 * JavaScript with its KMS keyring, talking to the same emulator through its
 * own KMS client. 1,000 envelopes share one data key (made through the SDK's
 * caching CMM), then are decrypted all at once: with the plain keyring, and
 * with a caching CMM on the decrypt side too.
 */
import {
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  KMS,
  KmsKeyringNode,
  NodeCachingMaterialsManager,
} from "@aws-crypto/client-node";

const context = { purpose: "bench" };

export async function peerConcurrentDecrypts(emulator, count) {
  const { arn } = emulator.createKey();
  const config = emulator.clientConfig();
  const keyring = new KmsKeyringNode({ generatorKeyId: arn, clientProvider: () => new KMS(config) });
  const client = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const caching = () =>
    new NodeCachingMaterialsManager({
      backingMaterials: keyring,
      cache: getLocalCryptographicMaterialsCache(1000),
      maxAge: 10 * 60_000,
      maxMessagesEncrypted: count,
    });
  const encryptCmm = caching();
  const envelopes = [];
  for (let i = 0; i < count; i++) {
    const plaintext = Buffer.from(`record ${i}`);
    envelopes.push(
      (
        await client.encrypt(encryptCmm, plaintext, {
          encryptionContext: context,
          plaintextLength: plaintext.length,
        })
      ).result,
    );
  }
  emulator.calls.reset();
  await Promise.all(envelopes.map((envelope) => client.decrypt(keyring, envelope)));
  const peer = emulator.calls.count("Decrypt");
  emulator.calls.reset();
  const decryptCmm = caching();
  await Promise.all(envelopes.map((envelope) => client.decrypt(decryptCmm, envelope)));
  const peerCaching = emulator.calls.count("Decrypt");
  return { peer, peerCaching };
}
