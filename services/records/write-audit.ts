/**
 * The records service's audit trail of writes: one event per PutRecord and
 * DeleteRecord call, one per WriteRecords call (per entity and dry-run flag
 * it touched, with the batches' summed counts), appended to `audit_events`
 * in the records database whatever the outcome. Writes are always audited;
 * no configuration turns this off.
 *
 * The event is appended when the call ends, so that it carries the outcome
 * and the counts. If the append itself fails the write has already happened:
 * the call keeps its result and the failure is reported to the log with the
 * event (the log is then the fallback trail), since failing a call whose
 * write was applied would invite a retry that writes twice.
 */
import { isDatabaseUnavailable } from "../shared/mongo/database-unavailable.js";
import { OutageRetries } from "../shared/mongo/outage-retries.js";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { EntitySpec } from "../domain/index.js";
import type { WriteRecordsRequest, WriteRecordsResponse } from "../../gen/dataexchange/records/v1/records_pb.js";
import { entityName } from "../shared/records-wire/record-codec.js";
import { principalOf } from "../shared/auth/index.js";
import { auditCallInfo, forwardedJobId, statusCodeName, type AuditCallInfo, type AuditCounts, type AuditLog, type NewAuditEvent } from "../shared/audit/index.js";
import { toConnectError } from "./error-mapping.js";

const WRITE_MODES: Record<number, string> = { 1: "insert", 2: "upsert", 3: "merge", 4: "skip-existing" };

export type AuditReporter = (message: string, detail: unknown) => void;

const defaultReporter: AuditReporter = (message, detail) => process.stderr.write(`[records] ${message}: ${JSON.stringify(detail)}\n`);

/** What the records service audits, and where. */
export class WriteAudit {
  /** Events that could not be stored because the database is away wait for it here. */
  private readonly waiting: OutageRetries;

  constructor(
    private readonly log: AuditLog,
    private readonly report: AuditReporter = defaultReporter,
  ) {
    this.waiting = new OutageRetries((message: unknown, ...detail: unknown[]) => report(String(message), detail.length > 0 ? { detail: detail.map(String) } : {}));
  }

  /**
   * Runs one single-record call (put or delete) inside its audit, and appends
   * its one event when it ends: succeeded with the counts `write` returns, or
   * failed (or cancelled) with what it threw, which is thrown on. `write`
   * names on its {@link SingleWrite} what it learns (entity, mode, key), so a
   * call that fails halfway is audited with as much as was known.
   */
  async single<T>(context: HandlerContext | undefined, start: SingleWriteStart, write: (audit: SingleWrite) => Promise<SingleWriteDone<T>>): Promise<T> {
    const event: NewAuditEvent = { ...callInfo(context), ...start, counts: {}, outcome: "succeeded" };
    const audit: SingleWrite = { set: (values) => void Object.assign(event, values) };
    let done: SingleWriteDone<T>;
    try {
      done = await write(audit);
    } catch (error) {
      await this.append({ ...event, ...failure(error) });
      throw error;
    }
    await this.append({ ...event, counts: done.counts, outcome: "succeeded" });
    return done.response;
  }

  /**
   * Appends the one event of a RevertWrites call when it ends: the entity,
   * its counts, and what ended it early (`error`, which the caller throws on).
   */
  async revert(context: HandlerContext | undefined, entity: EntitySpec["name"], counts: AuditCounts, error: unknown, cancelled: boolean): Promise<void> {
    const ending = error !== undefined ? failure(error) : cancelled ? failure(new ConnectError("the caller cancelled the call", Code.Canceled)) : undefined;
    await this.append({ ...callInfo(context), action: "revert", entity, counts, outcome: "succeeded", ...ending });
  }

  /** Starts the audit of one WriteRecords call. */
  stream(context: HandlerContext | undefined): StreamWriteAudit {
    return new StreamWriteAudit(this, callInfo(context));
  }

  /** Appends an event; never throws (see the module comment). */
  async append(event: NewAuditEvent): Promise<void> {
    try {
      await this.log.append(event);
    } catch (error) {
      // The database is away: the event is stored once it is back (outage-retries.ts), not lost.
      if (isDatabaseUnavailable(error)) return this.waiting.defer(`the audit event ${JSON.stringify(event)}`, async () => void (await this.log.append(event)), error);
      this.report("a write could not be audited", { event, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** The identity, address, trace and (from a service) job of a call. */
function callInfo(context: HandlerContext | undefined): AuditCallInfo & { jobId?: string } {
  const principal = context?.values ? principalOf(context) : undefined;
  const info: AuditCallInfo & { jobId?: string } = auditCallInfo(context, principal);
  const jobId = forwardedJobId(principal, context?.requestHeader);
  if (jobId) info.jobId = jobId;
  return info;
}

function failure(error: unknown): { outcome: "failed" | "cancelled"; error: string; errorCode: string } {
  const mapped = toConnectError(error);
  return { outcome: mapped.code === Code.Canceled ? "cancelled" : "failed", error: mapped.rawMessage, errorCode: statusCodeName(mapped.code, Code) };
}

/** The natural key of a record, as text parts. */
export function keyOf(spec: EntitySpec, record: Record<string, unknown>): string[] | undefined {
  const parts = spec.keyFields.map((k) => record[k]);
  return parts.every((p) => p !== undefined && p !== null) ? parts.map(String) : undefined;
}

/** What a single-record call's event says of the call before it starts: its action, and what its request states outright. */
export type SingleWriteStart = { action: "put" | "delete" } & Partial<Pick<NewAuditEvent, "dryRun" | "recordKey">>;

/** The event of a single-record call being written: what the call has learned so far. */
export interface SingleWrite {
  set(values: Partial<Pick<NewAuditEvent, "entity" | "mode" | "dryRun" | "recordKey">>): void;
}

/** What a single-record write ends with: the counts its event carries, and the call's response. */
export interface SingleWriteDone<T> {
  counts: AuditCounts;
  response: T;
}

interface Tally {
  entity?: EntitySpec["name"];
  dryRun: boolean;
  modes: Set<string>;
  counts: Required<Pick<AuditCounts, "inserted" | "updated" | "unchanged" | "skipped" | "failed" | "batches">>;
}

/** Sums a WriteRecords call's batches per entity and dry-run flag; one event each at the end. */
export class StreamWriteAudit {
  private readonly tallies = new Map<string, Tally>();
  private last: Tally | undefined;

  constructor(
    private readonly audit: WriteAudit,
    private readonly info: AuditCallInfo & { jobId?: string },
  ) {}

  /** Before a batch is written: counts it as received. */
  received(request: WriteRecordsRequest): void {
    const entity = entityName(request.entity);
    const key = `${entity ?? ""}/${request.dryRun}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { entity, dryRun: request.dryRun, modes: new Set(), counts: { inserted: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, batches: 0 } };
      this.tallies.set(key, tally);
    }
    const mode = WRITE_MODES[request.mode];
    if (mode) tally.modes.add(mode);
    tally.counts.batches++;
    this.last = tally;
  }

  /** After a batch was written: adds its counts. */
  written(response: WriteRecordsResponse): void {
    if (!this.last) return;
    const c = this.last.counts;
    c.inserted += response.inserted;
    c.updated += response.updated;
    c.unchanged += response.unchanged;
    c.skipped += response.skipped;
    c.failed += response.failed;
  }

  /** Appends the events; `error` is what ended the call early (the last batch's entity carries it). */
  async finish(error: unknown, cancelled: boolean): Promise<void> {
    const ending = error !== undefined ? failure(error) : cancelled ? failure(new ConnectError("the caller cancelled the call", Code.Canceled)) : undefined;
    for (const tally of this.tallies.values()) {
      const event: NewAuditEvent = { ...this.info, action: "write", dryRun: tally.dryRun, counts: { ...tally.counts }, outcome: "succeeded" };
      if (tally.entity) event.entity = tally.entity;
      if (tally.modes.size > 0) event.mode = [...tally.modes].join(",");
      if (ending && tally === this.last) Object.assign(event, ending);
      await this.audit.append(event);
    }
  }
}
