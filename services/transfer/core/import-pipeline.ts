/**
 * Import: file bytes in, validated record batches out to a {@link RecordWriter},
 * and a stream of events (progress, one `row_error` per problem, one summary).
 *
 * The core owns the loop: the plugin turns bytes into raw rows, the core maps
 * columns to fields, types and validates each row, catches keys repeated
 * inside the file, batches the good rows for the writer (the records service
 * over gRPC, which checks existing keys and references) and maps the writer's
 * per-record errors back to file rows. Nothing holds the file: at most the
 * batch being filled plus the batch being written are in memory, and reading
 * pauses while the consumer of the events or the writer is slow.
 *
 * Counting: `read` is every data row seen (parsed or not); every rejected row
 * is `failed` and reported. Unless a strict import aborted,
 * `inserted + updated + unchanged + skipped + failed === read`.
 */
import { traceAsyncIterable } from "../../shared/telemetry/index.js";
import { turnSpent, yieldTurn } from "../../shared/process/turn-budget.js";
import { FormatError, type FormatPlugin, type ReadEncoding, type ReadHeader } from "../../../formats/_sdk/index.js";
import { emptyRowCounts, isWriteMode, WRITE_MODES, type EntitySpec, type RowCounts, type RowErrorCode, type WriteCounts, type WriteMode } from "../../domain/index.js";
import { abortable } from "./abortable.js";
import { namingPluginFailures } from "./plugin-failures.js";
import { ByteMeter } from "./byte-meter.js";
import { refuseContainers } from "./container-sniff.js";
import { TransferCancelledError, TransferSettingsError, throwIfCancelled } from "./errors.js";
import { parsePluginOptions } from "./plugin-options.js";
import { readErrorCode, scrubPluginReason, type ImportEvent, type RowErrorEvent, type SummaryEvent } from "./import-events.js";
import { InFileKeys } from "./in-file-keys.js";
import { changesExceeded, checkBudget, errorBudgetExceeded, type ImportBudget } from "./import-budget.js";
import { RowMapper, type FieldMapping, type MappedRow } from "./row-mapper.js";
import { event, RowReporter } from "./row-reporter.js";
import type { StagedRow, StagingArea } from "./staging-area.js";

export type { FieldMapping } from "./row-mapper.js";
export type { Transform } from "./transforms.js";
export type { ImportEvent } from "./import-events.js";

export interface ImportSettings {
  entity: EntitySpec;
  plugin: FormatPlugin;
  /** Raw options for the plugin; parsed (and refused with a settings error) with `plugin.options`. */
  pluginOptions: unknown;
  mode: WriteMode;
  /** All or nothing: nothing is written when any row fails. */
  strict: boolean;
  /** Validate and ask the writer what would happen; write nothing. */
  dryRun: boolean;
  /** Absent: columns are matched to fields by key or label, case-insensitively; unknown columns stop the import, named. */
  mapping?: FieldMapping[];
  limits: { maxFileBytes: number; maxRowBytes: number; maxColumns: number };
  /** Records per writer call; default 1000, at most 10,000. */
  batchSize?: number;
  /**
   * Batches sent to the writer before the oldest answer is awaited; default 2,
   * at most 8. With one, the records service idles between answering a batch
   * and receiving the next; with two it always has the next one queued.
   */
  writesInFlight?: number;
  /** Splits flattened column names (`details.device`, as tabular exports write them) into nested fields. Default ".". */
  nestedDelimiter?: string;
  /** Error budget and change guard (core/import-budget.ts). */
  budget?: ImportBudget;
  signal?: AbortSignal;
}

/** A record the writer refused, by its index in the batch given to `write`. */
export interface WriteError {
  index: number;
  field: string;
  reason: string;
  code: string;
}

/** What the writer did with one batch. */
export interface WriteResult extends WriteCounts {
  errors: WriteError[];
  /** A dry run's records that would change nothing (unchanged or skipped), by index in the batch; absent where the writer does not say. */
  noOps?: number[];
  /** Set by the change guard: the batch was not written, it would have passed max_changes. */
  withheld?: true;
}

/** Implemented by the caller over the records service's WriteRecords stream. */
export interface RecordWriter {
  write(records: Record<string, unknown>[], options: { mode: WriteMode; dryRun: boolean; signal?: AbortSignal }): Promise<WriteResult>;
}

const DEFAULT_BATCH_SIZE = 1000;
const MAX_BATCH_SIZE = 10_000;
const DEFAULT_WRITES_IN_FLIGHT = 2;
const MAX_WRITES_IN_FLIGHT = 8;

/**
 * Runs one import. Settings errors ({@link TransferSettingsError}) are thrown
 * on the first `next()`, before a byte is read; problems with the data never
 * throw, they become events and the import always ends with a summary.
 * Cancelling through `settings.signal` stops reading and writing and throws
 * {@link TransferCancelledError}.
 *
 * Strict mode validates the whole file first: each batch that passes is
 * staged in `staging` and sent to the writer as a dry run (which catches
 * existing keys in insert mode, missing references, unique values taken);
 * only when no row failed are the staged rows replayed to the writer for
 * real. Rows the dry run found would change nothing (unchanged, or skipped as
 * stored) need no replay: once most rows of a batch are such, the next batches
 * are staged after their dry run, without them, and counted then — so a
 * strict re-import of a file mostly as stored costs about one dry run, not a
 * dry run, a staging of every row and a replay (a change another writer makes
 * to such a record before the replay stays, as if made after the import).
 * This does NOT guarantee atomicity against other writers: a record
 * created, changed or deleted by someone else between validation and replay
 * can still make replayed rows fail (they are reported, and the rows before
 * them stay written), and a failure of the records service during replay
 * leaves the rows replayed so far written. A dry run in strict mode reports
 * what each row would do, with `strictAborted` saying whether a real run
 * would write nothing.
 */
export async function* runImport(input: AsyncIterable<Uint8Array>, settings: ImportSettings, writer: RecordWriter, staging: StagingArea): AsyncGenerator<ImportEvent> {
  yield* new ImportRun(settings, writer, staging).run(input);
}

/**
 * How a batch goes to the writer. A strict real import sends each batch twice:
 * first as a dry run that validates it and stages it (its outcomes do not
 * count), then, once no row failed, replayed from staging for real.
 */
interface BatchMode {
  /** Ask the writer what would happen, write nothing. */
  dryRun: boolean;
  /** The writer's outcomes count in the summary. */
  counted: boolean;
  /** Keep the rows in staging for the replay. */
  stage: boolean;
}

/** The replay of a strict import: real writes of rows already checked, counted. */
const REPLAY: BatchMode = { dryRun: false, counted: true, stage: false };

interface InFlight {
  rows: MappedRow[];
  promise: Promise<WriteResult>;
  /** Outcomes count in the summary (false for the dry run that validates a strict import). */
  counted: boolean;
  /** A validated batch staged without its no-op rows: those are counted now, as they will not be replayed. */
  noOpsSettled?: boolean;
}

class ImportRun {
  private readonly plugin: FormatPlugin & Required<Pick<FormatPlugin, "read">>;
  private readonly options: unknown;
  private readonly mapper: RowMapper;
  private readonly keys: InFileKeys;
  private readonly batchSize: number;
  private readonly writesInFlight: number;
  /** Strict and real: validate with dry runs while staging, then replay. */
  private readonly staged: boolean;
  private readonly secretFields: string[];
  private readonly reporter: RowReporter;
  private readonly tally: RowCounts = emptyRowCounts();
  private rowsWritten = 0;
  private stopped: SummaryEvent["stopped"];
  /** The whole file was refused (its header, or its mapping): nothing is written, not even the rows read. */
  private refused = false;
  /** A real write was sent. */
  private written = false;
  private encoding: ReadEncoding | undefined;
  private fileHeader: ReadHeader | undefined;
  private readonly budget: ImportBudget;
  /** Lenient, real and with max_changes: each batch is a dry run first, written only if it keeps within max_changes. */
  private readonly guarded: boolean;
  /** Existing records changed (or, validating, that would be). */
  private changes = 0;
  /** Strict and real: the last batch validated was mostly rows that change nothing, so batches are staged after their dry run, without those rows. */
  private stageChangesOnly = false;
  /** Strict and real: rows settled by their dry run (no-ops), never replayed. */
  private settledWithoutReplay = 0;

  constructor(
    private readonly settings: ImportSettings,
    private readonly writer: RecordWriter,
    private readonly staging: StagingArea,
  ) {
    const { plugin } = settings;
    if (typeof plugin.read !== "function") throw new TransferSettingsError(`the ${plugin.name} format cannot read files`, [{ setting: "format", reason: "has no reader" }]);
    this.plugin = plugin as ImportRun["plugin"];
    if (!isWriteMode(settings.mode)) throw new TransferSettingsError(`unknown import mode ${JSON.stringify(settings.mode)}`, [{ setting: "mode", reason: `must be one of ${WRITE_MODES.join(", ")}` }]);
    if (settings.entity.appendOnly && settings.mode !== "insert") {
      throw new TransferSettingsError(`${settings.entity.name} is append-only: it can only be imported in insert mode, not ${settings.mode}`, [
        { setting: "mode", reason: "must be insert for an append-only entity" },
      ]);
    }
    this.options = parsePluginOptions(plugin, settings.pluginOptions);
    this.mapper = new RowMapper(settings.entity, { mode: settings.mode, mapping: settings.mapping, nestedDelimiter: settings.nestedDelimiter, typedFlattenedText: plugin.shape === "tabular" });
    this.keys = new InFileKeys(settings.entity);
    const size = settings.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE)
      throw new TransferSettingsError(`batchSize must be a whole number from 1 to ${MAX_BATCH_SIZE}`, [{ setting: "batchSize", reason: `must be 1–${MAX_BATCH_SIZE}` }]);
    this.batchSize = size;
    const depth = settings.writesInFlight ?? DEFAULT_WRITES_IN_FLIGHT;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_WRITES_IN_FLIGHT)
      throw new TransferSettingsError(`writesInFlight must be a whole number from 1 to ${MAX_WRITES_IN_FLIGHT}`, [{ setting: "writesInFlight", reason: `must be 1–${MAX_WRITES_IN_FLIGHT}` }]);
    this.staged = settings.strict && !settings.dryRun;
    this.budget = checkBudget(settings.budget, settings);
    this.guarded = this.budget.maxChanges !== undefined && !settings.strict && !settings.dryRun;
    // The guard adds up changes batch by batch: one batch at a time.
    this.writesInFlight = this.guarded ? 1 : depth;
    this.secretFields = settings.entity.fields.filter((f) => f.writeOnly).map((f) => f.key);
    this.reporter = new RowReporter(settings.entity, this.mapper);
  }

  async *run(input: AsyncIterable<Uint8Array>): AsyncGenerator<ImportEvent> {
    const { settings } = this;
    const { signal, strict, dryRun } = settings;
    const meter = new ByteMeter(settings.limits.maxFileBytes);
    const out: ImportEvent[] = [];
    let pending: MappedRow[] = [];
    // Batches sent and not yet answered, oldest first; answers are taken in order.
    const inflight: InFlight[] = [];
    const phase = dryRun || this.staged ? "validating" : "writing";
    /**
     * The first pass over the file: a real lenient import writes and counts;
     * a dry run only asks; a strict real import validates with dry runs and
     * stages the batches, until a row fails (then nothing will be replayed).
     */
    const firstPass = (): BatchMode => ({ dryRun: dryRun || this.staged, counted: !this.staged, stage: this.staged && this.tally.failed === 0 });
    /** Takes answers, oldest first, until fewer than `room` batches are out. */
    const awaitAnswers = async (room: number) => {
      while (inflight.length > room) out.push(...(await this.settle(inflight.shift()!, meter, phase)));
    };
    /** Sends `rows` once fewer than `writesInFlight` batches are out, so the next batch is read meanwhile. */
    const send = async (rows: MappedRow[], mode: BatchMode) => {
      if (rows.length === 0) return;
      await awaitAnswers(this.writesInFlight - 1);
      inflight.push(this.start(rows, mode));
    };
    const allAnswered = () => awaitAnswers(0);
    try {
      const reader = traceAsyncIterable(
        "format.read",
        { "dx.plugin": this.plugin.name, "dx.entity": settings.entity.name },
        namingPluginFailures(this.plugin.name, refuseContainers(meter.wrap(abortable(input, signal)), this.plugin), (bytes) =>
          this.plugin.read(bytes, {
            options: this.options,
            columns: this.mapper.readColumns(),
            limits: { maxRowBytes: settings.limits.maxRowBytes, maxColumns: settings.limits.maxColumns },
          }),
        ),
      );
      /** Checks, before the first real write and at the end, that every mapped column appeared (files without a header). */
      const sourcesSeen = (final: boolean): boolean => {
        if (this.mapper.header !== undefined || this.stopped !== undefined) return true;
        const unseen = this.mapper.unseenSources();
        if (unseen.length === 0) return true;
        const where = final ? "in no record of the file" : `in none of the first ${this.tally.read} records (nothing is written until every mapped column has appeared)`;
        this.refuse(`mapped column${unseen.length > 1 ? "s" : ""} ${unseen.map((c) => JSON.stringify(c)).join(", ")} appear${unseen.length > 1 ? "" : "s"} ${where}; ${this.mapper.describeColumns()}`);
        return false;
      };
      try {
        // A chunk of the file can hold hundreds of rows: the event loop turns every few ms between them (turn-budget.ts).
        reading: for await (const items of reader) {
          throwIfCancelled(signal);
          for (const item of items) {
            if (turnSpent()) await yieldTurn();
            if (this.overBudget(false)) break reading;
            if (item.kind === "encoding") {
              this.encoding = item.encoding;
              continue;
            }
            if (item.kind === "header") {
              this.fileHeader = item.header;
              const issues = this.mapper.checkHeader(item.header);
              if (issues.length > 0) {
                // Row 0 is the header: each problem is reported, and the file is refused as a whole.
                for (const issue of issues) out.push(event({ row: 0, line: item.header.line, column: issue.column, reason: issue.reason, code: "invalid" }));
                this.refuse(`the file's header does not fit: ${issues.map((i) => i.reason).join("; ")}; ${this.mapper.describeColumns()}`, item.header.line, issues[0]!.setting);
                break reading;
              }
              continue;
            }
            if (item.kind === "error") {
              this.tally.read++;
              this.tally.failed++;
              const { row, line, column } = item.error;
              const reason = scrubPluginReason(item.error.reason, this.secretFields.length > 0);
              this.reject(out, [event({ row, line, column, reason, code: readErrorCode(reason) })], row, line, item.error.values);
              continue;
            }
            const mapped = this.mapper.map(item.row);
            if (!mapped.ok && mapped.fatal) {
              const reason = mapped.issues.map((i) => i.reason).join("; ");
              this.stopped = { code: "invalid", reason, row: item.row.row };
              out.push(...this.reporter.issueEvents({ row: item.row.row, line: item.row.line, raw: item.row.values, record: {} }, mapped.issues, "invalid"));
              break reading;
            }
            this.tally.read++;
            if (!mapped.ok) {
              this.tally.failed++;
              const events = this.reporter.issueEvents({ row: item.row.row, line: item.row.line, raw: item.row.values, record: {} }, mapped.issues, "invalid");
              this.reject(out, events, item.row.row, item.row.line, item.row.values);
              continue;
            }
            const duplicate = this.keys.claim(mapped.value.record, mapped.value.row);
            if (duplicate !== undefined) {
              this.tally.failed++;
              const reason = `${duplicate.field} repeats the value of row ${duplicate.firstRow} of this file`;
              const events = this.reporter.issueEvents(mapped.value, [{ field: duplicate.field, column: this.mapper.columnFor(duplicate.field), reason }], "duplicate_in_file");
              this.reject(out, events, mapped.value.row, mapped.value.line, mapped.value.raw);
              continue;
            }
            pending.push(mapped.value);
            if (pending.length >= this.batchSize) {
              throwIfCancelled(signal);
              if (!this.written && !(dryRun || this.staged) && !sourcesSeen(false)) break reading;
              this.written = true;
              await send(pending, firstPass());
              pending = [];
              yield* drain(out);
              if (this.stopped?.code === "budget") break reading;
            }
          }
          yield* drain(out);
        }
      } catch (err) {
        if (signal?.aborted) throw new TransferCancelledError({ cause: signal.reason });
        if (meter.exceeded !== undefined) {
          const reason = meter.exceeded.message;
          this.stopped = { code: "limit", reason, row: this.tally.read + 1 };
          out.push(event({ row: this.tally.read + 1, reason, code: "limit" }));
        } else if (err instanceof FormatError) {
          const reason = scrubPluginReason(err.reason, this.secretFields.length > 0);
          // Before the header, a position-less error is the header's (or the file's start): row 0, not "row 1".
          const atHeader = err.row === undefined && this.fileHeader === undefined && this.tally.read === 0;
          const row = err.row ?? (atHeader ? 0 : this.tally.read + 1);
          this.stopped = { code: "format", reason, row: atHeader ? undefined : row, line: err.line, offset: err.offset };
          out.push(event({ row, line: err.line, column: err.column, reason, code: "format" }));
        } else {
          throw err;
        }
      }
      if (this.stopped === undefined) sourcesSeen(true);
      // The whole file read: the error budget is judged on all of it before the last rows are written.
      if (!strict) this.overBudget(true);
      // The rows read before a stop are complete and checked: a lenient import writes them (not after a refusal of the whole file, nor past its budget).
      if (!this.refused && !(strict && this.stopped !== undefined) && this.stopped?.code !== "budget") await send(pending, firstPass());
      pending = [];
      await allAnswered();
      yield* drain(out);

      const aborted = (strict && (this.tally.failed > 0 || this.stopped !== undefined)) || this.refused;
      if (this.staged && !aborted) {
        this.rowsWritten = this.settledWithoutReplay;
        for await (const batch of abortable(this.staging.replay(this.batchSize), signal)) {
          await send(
            batch.map((s) => this.unstage(s)),
            REPLAY,
          );
          yield* drain(out);
        }
        await allAnswered();
        yield* drain(out);
      }
      const wrote = !(aborted && !dryRun);
      const summary: SummaryEvent = {
        kind: "summary",
        read: this.tally.read,
        inserted: wrote ? this.tally.inserted : 0,
        updated: wrote ? this.tally.updated : 0,
        unchanged: wrote ? this.tally.unchanged : 0,
        skipped: wrote ? this.tally.skipped : 0,
        failed: this.tally.failed,
        sha256: meter.digest(),
        bytes: meter.bytes,
        strictAborted: aborted,
        dryRun,
      };
      if (this.stopped !== undefined) summary.stopped = this.stopped;
      if (this.encoding !== undefined) summary.encoding = this.encoding;
      if (this.fileHeader !== undefined) summary.header = this.fileHeader;
      yield summary;
    } finally {
      // Let a write in flight finish (it was given the signal) before the staging collection is dropped.
      for (const write of inflight) await write.promise.catch(() => undefined);
      await this.staging.drop();
    }
  }

  /** Stops a lenient import whose error budget is spent (a strict one aborts on its first rejection anyway); true once stopped for its budget. */
  private overBudget(final: boolean): boolean {
    if (this.stopped !== undefined) return this.stopped.code === "budget";
    if (this.settings.strict) return false;
    const reason = errorBudgetExceeded(this.budget, this.tally, final);
    if (reason === undefined) return false;
    this.stopped = { code: "budget", reason, row: this.tally.read };
    return true;
  }

  /** A batch of a guarded import: a dry run says how many existing records it changes; written only within max_changes. */
  private async guardedWrite(rows: MappedRow[], signal: AbortSignal | undefined): Promise<WriteResult> {
    const { mode } = this.settings;
    const records = rows.map((r) => r.record);
    const preview = await this.writer.write(records, { mode, dryRun: true, signal });
    const over = changesExceeded(this.budget, this.changes, preview.updated);
    if (over !== undefined) {
      this.stopped ??= { code: "budget", reason: `${over}; the batch from row ${rows[0]!.row} was not written`, row: rows[0]!.row, line: rows[0]!.line };
      return { inserted: 0, updated: 0, unchanged: 0, skipped: 0, errors: [], withheld: true };
    }
    return this.writer.write(records, { mode, dryRun: false, signal });
  }

  /** Stops the import before anything is written: the file as a whole does not fit (its header, its mapped columns). */
  private refuse(reason: string, line?: number, setting?: string): void {
    this.refused = true;
    this.stopped = { code: "invalid", reason, line, setting, at: "header" };
  }

  /** Reports a rejected row: its errors, then the row itself (its cells, secrets withheld) for the failed-rows file. */
  private reject(out: ImportEvent[], events: RowErrorEvent[], row: number, line: number | undefined, values: Record<string, unknown> | undefined): void {
    out.push(...events);
    out.push(this.reporter.failedRow(row, line, values, events));
  }

  /**
   * Sends a batch to the writer (and to staging) without waiting, so the next batch is read meanwhile.
   * Staged whole, the rows are staged while the dry run runs; staged for their changes only, after it.
   */
  private start(rows: MappedRow[], { dryRun, counted, stage }: BatchMode): InFlight {
    const { signal, mode } = this.settings;
    const write =
      this.guarded && counted && !dryRun
        ? this.guardedWrite(rows, signal)
        : this.writer.write(
            rows.map((r) => r.record),
            { mode, dryRun, signal },
          );
    const inflight: InFlight = { rows, promise: write, counted };
    if (stage && this.stageChangesOnly) {
      inflight.promise = write.then(async (result) => {
        const noOps = noOpRows(result, rows.length);
        await this.staging.add((noOps ? rows.filter((_, i) => !noOps.has(i)) : rows).map((r) => this.toStaged(r)));
        inflight.noOpsSettled = noOps !== undefined;
        return result;
      });
    } else if (stage) {
      inflight.promise = Promise.all([write, this.staging.add(rows.map((r) => this.toStaged(r)))]).then(([result]) => result);
    }
    inflight.promise.catch(() => undefined); // observed in settle(); avoids an unhandled rejection while the next batch is read
    return inflight;
  }

  /** Waits for the batch in flight and turns its result into counts and events. */
  private async settle(inflight: InFlight, meter: ByteMeter, phase: "validating" | "writing"): Promise<ImportEvent[]> {
    const result = await inflight.promise;
    throwIfCancelled(this.settings.signal);
    const events: ImportEvent[] = [];
    if (result.withheld) return events;
    this.changes += result.updated;
    // Validating (strict, or a dry run): the changes the file would make, judged as they add up.
    const validating = !inflight.counted || this.settings.dryRun;
    const over = validating ? changesExceeded(this.budget, 0, this.changes) : undefined;
    if (over !== undefined && this.stopped === undefined) this.stopped = { code: "budget", reason: over, row: inflight.rows[0]?.row };
    const failed = new Set<number>();
    const byRow = new Map<number, RowErrorEvent[]>();
    for (const e of result.errors) {
      const row = inflight.rows[e.index];
      if (row === undefined) continue;
      failed.add(e.index);
      const rowEvents = this.reporter.issueEvents(row, [{ field: e.field || undefined, column: e.field ? this.mapper.columnFor(e.field) : undefined, reason: e.reason }], errorCode(e.code));
      byRow.set(e.index, [...(byRow.get(e.index) ?? []), ...rowEvents]);
    }
    for (const [index, rowEvents] of byRow) {
      const row = inflight.rows[index]!;
      this.reject(events, rowEvents, row.row, row.line, row.raw);
    }
    this.tally.failed += failed.size;
    if (inflight.counted) {
      this.tally.inserted += result.inserted;
      this.tally.updated += result.updated;
      this.tally.unchanged += result.unchanged;
      this.tally.skipped += result.skipped;
    } else if (inflight.noOpsSettled) {
      this.tally.unchanged += result.unchanged;
      this.tally.skipped += result.skipped;
      this.settledWithoutReplay += result.unchanged + result.skipped;
    }
    if (this.staged && !inflight.counted) this.stageChangesOnly = (noOpRows(result, inflight.rows.length)?.size ?? 0) * 2 > inflight.rows.length;
    this.rowsWritten += inflight.rows.length;
    events.push({
      kind: "progress",
      rowsRead: this.tally.read,
      bytesRead: meter.bytes,
      phase: inflight.counted && !this.settings.dryRun ? "writing" : phase,
      rowsWritten: this.rowsWritten,
      counts: { ...this.tally },
    });
    return events;
  }

  private toStaged(row: MappedRow): StagedRow {
    const staged: StagedRow = { row: row.row, line: row.line, record: row.record };
    if (this.secretFields.some((f) => row.record[f] !== undefined)) {
      const record = { ...row.record };
      const secrets: Record<string, string> = {};
      for (const f of this.secretFields) {
        if (typeof record[f] === "string") secrets[f] = record[f] as string;
        delete record[f];
      }
      staged.record = record;
      staged.secrets = secrets;
    }
    return staged;
  }

  private unstage(staged: StagedRow): MappedRow {
    return { row: staged.row, line: staged.line, record: staged.secrets ? { ...staged.record, ...staged.secrets } : staged.record };
  }
}

const WRITER_CODES = new Set<string>(["invalid", "duplicate_key", "exists", "missing_reference", "not_attempted", "internal"]);

function errorCode(code: string): RowErrorCode {
  return WRITER_CODES.has(code) ? (code as RowErrorCode) : "internal";
}

/**
 * The rows of a dry-run batch that would change nothing, when the writer said
 * which and its list agrees with its counts (else undefined: every row is
 * then replayed, and the replay counts them).
 */
function noOpRows(result: WriteResult, size: number): Set<number> | undefined {
  if (result.noOps === undefined) return undefined;
  const rows = new Set(result.noOps);
  const failed = new Set(result.errors.map((e) => e.index));
  const consistent = rows.size === result.noOps.length && rows.size === result.unchanged + result.skipped && result.noOps.every((i) => Number.isInteger(i) && i >= 0 && i < size && !failed.has(i));
  return consistent ? rows : undefined;
}

function* drain(events: ImportEvent[]): Generator<ImportEvent> {
  const copy = events.splice(0, events.length);
  yield* copy;
}
