/**
 * Wire-compatible local emulators. Import the one you need from its subpath
 * (`@kms-envelope/emulators/aws`, `/gcp`, `/azure`) so only that cloud's SDK
 * is loaded; this root module only shares the fault-injection types.
 */
export * from "./faults.js";
