export type { AuditLogContents, AuditRecord } from "./audit-log.js";
export {
  DEFAULT_DELETION_WAITING_DAYS,
  defaultKeystorePath,
  type KeyInfo,
  type KeyState,
  type Keystore,
  type KeystoreOptions,
  MINIMUM_DELETION_WAITING_DAYS,
  openKeystore,
} from "./keystore.js";
export { createLocalKek, LOCAL_PROVIDER, type LocalKekOptions } from "./local-kek.js";
export { type LocalUriOptions, localKeyUriProvider } from "./uri.js";
