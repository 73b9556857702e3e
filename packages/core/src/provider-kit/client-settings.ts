import { EnvelopeError } from "../errors.js";
import { invalid, requireObject } from "../validate.js";
import { isLoopbackUrl } from "./open-options.js";

export interface ClientSettingsCheck {
  /** The settings that configure a client the KEK creates, by name; `undefined` is "not set". */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Whether a client was passed in: then none of `settings` may be set (it would be silently ignored). */
  readonly injected?: boolean | undefined;
  /** The URL the created client calls, when not the SDK's default: `https://`, or `http://` on loopback. */
  readonly endpoint?: string | undefined;
  /** Static test credentials (an emulator's): only with a loopback `endpoint`. */
  readonly insecureTestCredentials?: boolean | undefined;
}

/**
 * The checks every provider makes on the settings of a client it creates
 * (a config file's `endpoint`, `insecureTestCredentials`, …), each an
 * `INVALID_ARGUMENT`: none next to an injected client; an endpoint that is
 * a URL, `https://` unless it is this machine (a plaintext hop would carry
 * DEKs); test credentials only for a loopback endpoint, so they can never
 * be sent to a real service. Returns the parsed endpoint.
 */
export function checkClientSettings(check: ClientSettingsCheck): URL | undefined {
  requireObject(check, "checkClientSettings", "check");
  const { settings, injected, endpoint, insecureTestCredentials } = check;
  requireObject(settings, "checkClientSettings", "settings");
  if (endpoint !== undefined && typeof endpoint !== "string") {
    invalid("checkClientSettings", "endpoint must be a string");
  }
  if (injected === true) {
    const given = Object.keys(settings).filter((name) => settings[name] !== undefined);
    if (given.length > 0) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${given.join(", ")} configure a created client: set them on the client you pass instead`,
      );
    }
  }
  let url: URL | undefined;
  if (endpoint !== undefined) {
    try {
      url = new URL(endpoint);
    } catch {
      throw new EnvelopeError("INVALID_ARGUMENT", `endpoint "${endpoint}" is not a URL`);
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackUrl(endpoint))) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `endpoint "${endpoint}" must be https:// (plain http:// only on loopback)`,
      );
    }
  }
  if (insecureTestCredentials === true && (url === undefined || !isLoopbackUrl(url.href))) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      "insecureTestCredentials needs a loopback endpoint (an emulator)",
    );
  }
  return url;
}
