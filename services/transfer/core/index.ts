/**
 * The transfer core: streaming export and import pipelines over format
 * plugins. The transfer service's RPC and HTTP layers call these; nothing here
 * knows about gRPC, HTTP or the jobs store.
 */
export { runExport, exportColumns, type ExportSettings } from "./export-pipeline.js";
export { planColumns, recordToRow, type ColumnPlan, type ColumnSettings } from "./export-columns.js";
export { runImport, type ImportSettings, type RecordWriter, type WriteError, type WriteResult } from "./import-pipeline.js";
export type { ImportEvent, RowErrorEvent, SummaryEvent } from "./import-events.js";
export type { FieldMapping } from "./row-mapper.js";
export type { Transform } from "./transforms.js";
export { createStagingArea, type StagingArea, type StagedRow } from "./staging-area.js";
export { TransferCancelledError, TransferSettingsError, type SettingIssue } from "./errors.js";
export { FileTooLargeError } from "./byte-meter.js";
export { compileDateFormat, type DateFormat } from "./date-format-parser.js";
export { abortable } from "./abortable.js";
