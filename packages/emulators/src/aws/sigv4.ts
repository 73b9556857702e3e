import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { kmsError } from "./kms-error.js";

/** Credentials the emulator accepts; a principal may be limited to some operations (an IAM policy in miniature). */
export interface EmulatorPrincipal {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Operations this principal may call (e.g. ["GetPublicKey"]); every operation when absent. */
  readonly allow?: readonly string[] | undefined;
}

export interface VerifiedRequest {
  readonly principal: EmulatorPrincipal;
  /** The region from the credential scope: the emulator keeps keys per region, as AWS does. */
  readonly region: string;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

/**
 * Checks the SigV4 `Authorization` header the way KMS does: a missing header,
 * an unknown access key and a wrong signature are each rejected with the
 * error type AWS returns. The signature is recomputed over the request, so a
 * client with the wrong secret, or a body altered in transit, fails.
 */
export function verifySigV4(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  principals: ReadonlyMap<string, EmulatorPrincipal>,
  acceptAnyCredentials = false,
): VerifiedRequest {
  const authorization = headers.authorization;
  if (authorization === undefined) {
    throw kmsError("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  const match = AUTH_PATTERN.exec(authorization);
  if (match === null) {
    throw kmsError(
      "IncompleteSignatureException",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.",
    );
  }
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  const principal = principals.get(accessKeyId!);
  if (principal === undefined && acceptAnyCredentials) {
    // The emulators command: any well-formed signed request is let in (there is no secret to check it with).
    return { principal: { accessKeyId: accessKeyId!, secretAccessKey: "" }, region: region! };
  }
  if (principal === undefined) {
    throw kmsError("UnrecognizedClientException", "The security token included in the request is invalid.");
  }
  const amzDate = headerValue(headers, "x-amz-date");
  if (service !== "kms" || amzDate === undefined || !amzDate.startsWith(date!)) {
    throw kmsError(
      "InvalidSignatureException",
      "Credential should be scoped to a valid date, region and service kms.",
    );
  }
  const names = signedHeaders!.split(";");
  if (!names.includes("host")) {
    throw kmsError("InvalidSignatureException", "'Host' must be a signed header.");
  }
  const canonicalHeaders = names
    .map((name) => `${name}:${(headerValue(headers, name) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const payloadHash = headerValue(headers, "x-amz-content-sha256") ?? sha256Hex(body);
  const canonicalRequest = [method, path, "", canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${principal.secretAccessKey}`, date!);
  for (const part of [region!, service!, "aws4_request"]) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString("hex"));
  const actual = Buffer.from(signature!);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw kmsError(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
  }
  return { principal, region: region! };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}
