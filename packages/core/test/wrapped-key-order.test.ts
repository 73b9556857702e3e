import { describe, expect, it } from "vitest";
import {
  createKeyring,
  decrypt,
  EnvelopeError,
  encrypt,
  inspect,
  type KeyEncryptionKey,
  rewrap,
} from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";

// docs/format.md, "Wrapped-key list", Order: written in keyring order; decrypt tries the
// keyring's KEKs in order (primary, extras, decrypt-only), each against its entries in
// envelope order.
function recording(kek: KeyEncryptionKey, log: string[], fail = false): KeyEncryptionKey {
  return {
    ...kek,
    unwrap: async (entry, context, options) => {
      log.push(kek.keyId);
      if (fail) throw new EnvelopeError("KMS_UNAVAILABLE", "down");
      return kek.unwrap(entry, context, options);
    },
  };
}

describe("order of wrapped keys", () => {
  const [a, b, c] = ["a", "b", "c"].map((id) => createMemoryKek(id).kek) as [
    KeyEncryptionKey,
    KeyEncryptionKey,
    KeyEncryptionKey,
  ];

  it("encrypt writes the primary, then the extras in order; rewrap appends added KEKs in order", async () => {
    const envelope = await encrypt(new Uint8Array(1), {
      keyring: createKeyring({ primary: c, extra: [a, b] }),
    });
    expect(inspect(envelope).wrappedKeys.map((entry) => entry.keyId)).toEqual(["c", "a", "b"]);
    const { envelope: edited } = await rewrap(envelope, {
      from: createKeyring({ primary: c }),
      to: { remove: [a], add: [b, a] },
    });
    // "b" is replaced (an added KEK that matches an entry), "a" removed and re-added: kept "c", then b, a.
    expect(inspect(edited).wrappedKeys.map((entry) => entry.keyId)).toEqual(["c", "b", "a"]);
  });

  it("decrypt tries primary, extras, then decrypt-only KEKs, whatever the envelope's order", async () => {
    const envelope = await encrypt(new Uint8Array(1), {
      keyring: createKeyring({ primary: c, extra: [a, b] }),
    });
    const log: string[] = [];
    const keyring = createKeyring({
      primary: recording(b, log, true),
      extra: [recording(a, log, true)],
      decryptOnly: [recording(c, log)],
    });
    const result = await decrypt(envelope, { keyring });
    expect(log).toEqual(["b", "a", "c"]);
    expect(result.unwrappedWith.keyId).toBe("c");
  });
});
