import { runKekConformance } from "@kms-envelope/conformance";
import { createGcpKmsKek } from "../src/index.js";
import { TRANSPORTS, useEmulator } from "./helpers.js";

// The shared suite, through the real client against the emulator, on both transports.
const env = useEmulator();

for (const transport of TRANSPORTS) {
  for (const asymmetric of [false, true]) {
    const keys: { kek?: ReturnType<typeof createGcpKmsKek>; other?: ReturnType<typeof createGcpKmsKek> } = {};
    const make = () => {
      const key = env.emulator.createKey(asymmetric ? { purpose: "ASYMMETRIC_DECRYPT" } : {});
      return createGcpKmsKek({
        name: asymmetric ? key.versionName : key.name,
        client: env.client(transport),
      });
    };
    runKekConformance({
      name: `gcp-kms ${asymmetric ? "asymmetric RSA-OAEP" : "symmetric"} (${transport})`,
      makeKeks: async () => {
        keys.kek ??= make();
        keys.other ??= make();
        return { kek: keys.kek, other: keys.other };
      },
      // RSA decrypt keys bind no context in Cloud KMS: only the header tag and commitment do.
      capabilities: { abort: true, bindsContext: !asymmetric },
    });
  }
}
