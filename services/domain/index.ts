export * from "./field-spec.js";
export * from "./entity-spec.js";
export * from "./validate-record.js";
export * from "./free-form-object.js";
export { ENTITIES, ENTITY_NAMES, entitySpec } from "./entities/index.js";
export * from "./write-mode.js";
export * from "./row-counts.js";
export * from "./row-error.js";
