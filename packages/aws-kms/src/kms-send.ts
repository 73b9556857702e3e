import type { KMSClient } from "@aws-sdk/client-kms";
import { throwIfAborted } from "@kms-envelope/core";
import { awsKmsError } from "./errors.js";

export type SendOptions = { abortSignal?: AbortSignal };

/**
 * Runs one KMS call: refuses to start once the signal has fired, hands the
 * signal to the SDK (which cancels the HTTP request and its retries), and
 * maps whatever is thrown onto a typed error.
 */
export type KmsSender = <T>(
  operation: string,
  keyId: string,
  signal: AbortSignal | undefined,
  run: (kms: KMSClient, sendOptions: SendOptions) => Promise<T>,
) => Promise<T>;

export function createKmsSender(getClient: () => KMSClient): KmsSender {
  return async (operation, keyId, signal, run) => {
    throwIfAborted(signal);
    try {
      return await run(getClient(), signal === undefined ? {} : { abortSignal: signal });
    } catch (error) {
      throw awsKmsError(error, operation, keyId, signal);
    }
  };
}
