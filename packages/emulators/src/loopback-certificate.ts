import { generate } from "selfsigned";

/**
 * A self-signed P-256 certificate for an HTTPS emulator on loopback, valid
 * for a week, for localhost, 127.0.0.1 and ::1. Clients trust it through its
 * PEM (`ca`), never by turning verification off.
 */
export async function generateLoopbackCertificate(
  commonName: string,
): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 7 * 86_400_000),
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
  return { cert: pems.cert, key: pems.private };
}
