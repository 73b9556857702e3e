import { generate } from "selfsigned";

export interface EmulatorCertificate {
  /** PEM private key. */
  readonly private: string;
  /** PEM certificate: what clients trust (it is its own CA). */
  readonly cert: string;
}

/**
 * A self-signed EC P-256 server certificate for 127.0.0.1, ::1 and
 * localhost. Tests use a fresh one valid 7 days; the emulators command keeps
 * one in its state directory (valid `days`) so a printed CA file stays good.
 */
export async function createEmulatorCertificate(
  options: { days?: number } = {},
): Promise<EmulatorCertificate> {
  const pems = await generate([{ name: "commonName", value: "kms-envelope Key Vault emulator" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + (options.days ?? 7) * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { private: pems.private, cert: pems.cert };
}
