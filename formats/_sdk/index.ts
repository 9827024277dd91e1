/**
 * The plugin SDK: everything a format plugin imports, and what the transfer
 * core reuses to type and format cells.
 */
export * from "./plugin.js";
export * from "./format-error.js";
export * from "./coerce-cell.js";
export * from "./format-cell.js";
export * from "./formula-escape.js";
export * from "./text-encoding.js";
export * from "./text-decoding.js";
export * from "./contract.js";
export { parseIsoTimestamp, parseTimestamp, type TimestampResult } from "./parse-timestamp.js";
export * from "./rows.js";
export * from "./json-text.js";
export * from "./line-splitter.js";
