/** The pure envelope format: encode and decode, no crypto. docs/format.md specifies every byte. */
export * from "./armor.js";
export * from "./bytes.js";
export * from "./constants.js";
export * from "./context.js";
export * from "./frame.js";
export * from "./frame-decoder.js";
export * from "./header.js";
export * from "./header-parser.js";
