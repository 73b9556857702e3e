/**
 * Wire-compatible local emulators. Import the one you need from its subpath
 * (`@kms-envelope/emulators/aws`, `/gcp`, `/azure`) so only that cloud's SDK
 * is loaded; this root module holds what they share: fault injection and
 * the loopback-only network guard for test setup files.
 */
export * from "./faults.js";
export { installLoopbackGuard, type LoopbackGuard } from "./loopback-guard.js";
