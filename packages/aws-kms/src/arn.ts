/** A parsed KMS ARN: `arn:<partition>:kms:<region>:<account>:key/<id>` or `…:alias/<name>`. */
export interface KmsArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly resourceType: "key" | "alias";
  /** The key id (`1234abcd-…` or `mrk-…`) or the alias name without "alias/". */
  readonly resource: string;
}

const ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

export function parseKmsArn(value: string): KmsArn | undefined {
  const match = ARN.exec(value);
  if (match === null) return undefined;
  return {
    partition: match[1]!,
    region: match[2]!,
    account: match[3]!,
    resourceType: match[4] as "key" | "alias",
    resource: match[5]!,
  };
}

export function isKeyArn(value: string): boolean {
  return parseKmsArn(value)?.resourceType === "key";
}

/**
 * Whether two key ARNs name copies of one multi-Region key: both `mrk-`
 * keys with the same id, partition and account, in any regions (the AWS
 * Encryption SDK's MRK match rule).
 */
export function isSameMultiRegionKey(a: string, b: string): boolean {
  const left = parseKmsArn(a);
  const right = parseKmsArn(b);
  if (left === undefined || right === undefined) return false;
  return (
    left.resourceType === "key" &&
    right.resourceType === "key" &&
    left.resource.startsWith("mrk-") &&
    left.resource === right.resource &&
    left.partition === right.partition &&
    left.account === right.account
  );
}
