/**
 * `dx audit`: the audit trail of imports and exports (auditors and admins),
 * newest first, filtered by who, what, which entity and when.
 */
import { toJson } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditAction, AuditEventSchema, AuditOutcome, type AuditEvent } from "../../gen/dataexchange/audit/v1/audit_pb.js";
import { dateOption, entityOf, usageError, wholeNumber } from "../arguments.js";
import type { CommandContext } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { table } from "../output.js";

export interface AuditOptions {
  subject?: string;
  action?: string;
  entity?: string;
  since?: string;
  until?: string;
  limit?: string;
}

const ACTIONS = ["export", "import", "put", "delete", "write"] as const;

function actionOf(text: string): AuditAction {
  const key = text.trim().toLowerCase();
  if (!(ACTIONS as readonly string[]).includes(key)) throw usageError(`--action must be one of ${ACTIONS.join(", ")}, not ${JSON.stringify(text)}`);
  return AuditAction[key.toUpperCase() as keyof typeof AuditAction];
}

function countsOf(e: AuditEvent): string {
  const c = e.counts;
  if (!c) return "";
  const parts = Object.entries({
    read: c.read,
    inserted: c.inserted,
    updated: c.updated,
    unchanged: c.unchanged,
    skipped: c.skipped,
    failed: c.failed,
    exported: c.exported,
    deleted: c.deleted,
  }).filter(([, v]) => v > 0n);
  return parts.map(([k, v]) => `${v} ${k}`).join(", ");
}

export async function runAudit(ctx: CommandContext, options: AuditOptions): Promise<number> {
  if (options.entity !== undefined) entityOf(options.entity);
  const limit = options.limit !== undefined ? wholeNumber(options.limit, "--limit") : 50;
  const filter = {
    subject: options.subject ?? "",
    action: options.action !== undefined ? actionOf(options.action) : AuditAction.UNSPECIFIED,
    entity: options.entity?.trim().toLowerCase() ?? "",
    from: options.since !== undefined ? timestampFromDate(dateOption(options.since, "--since")) : undefined,
    to: options.until !== undefined ? timestampFromDate(dateOption(options.until, "--until")) : undefined,
  };
  const events: AuditEvent[] = [];
  let pageToken = "";
  do {
    const page = await ctx.client.listAuditEvents({ filter, pageSize: Math.min(limit - events.length, 500), pageToken });
    events.push(...page.events);
    pageToken = page.nextPageToken;
  } while (pageToken && events.length < limit);
  for (const event of events) ctx.out.event(toJson(AuditEventSchema, event));
  const rows = events.map((e) => [
    e.time
      ? timestampDate(e.time)
          .toISOString()
          .replace(/\.\d+Z$/, "Z")
      : "",
    (AuditAction[e.action] ?? "").toLowerCase(),
    (AuditOutcome[e.outcome] ?? "").toLowerCase(),
    e.subject + (e.onBehalfOf ? ` for ${e.onBehalfOf}` : ""),
    e.entity,
    e.format,
    e.jobId,
    countsOf(e) + (e.error ? ` — ${e.error}` : ""),
  ]);
  ctx.out.result(events.length ? table([["TIME", "ACTION", "OUTCOME", "BY", "ENTITY", "FORMAT", "JOB", "COUNTS"], ...rows]) : "no audit events");
  return ExitCode.done;
}
