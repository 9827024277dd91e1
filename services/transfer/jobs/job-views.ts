/**
 * A job as a reader may see it. Personal data (emails, names: fields marked
 * `personal`) needs the `pii` permission wherever the service shows it —
 * exports leave those columns out, the audit trail withholds personal keys —
 * and a job holds some too: rejected rows quote the file's cells (an invalid
 * email, a clash with an existing user's email), and an export's filter may
 * name users by their email. For a reader without `pii`, every job view
 * (GetJob, ListJobs, CancelJob, the /jobs routes) and the failed-rows file
 * shows those values as {@link WITHHELD}; everything else is shown as stored.
 *
 * Which values are personal is noted when an error is found (the import
 * knows the row and its columns then: `RowError.personal`); this module
 * only applies the rule, and never shows the note itself.
 */
import { entitySpec, type RowError } from "../../domain/index.js";
import { redact, scrubPluginReason } from "../core/import-events.js";
import type { JobDocument } from "./job-types.js";

/** What a reader without `pii` sees instead of a personal value (as the audit trail says it). */
export const WITHHELD = "(personal data withheld)";

function entityOf(name: string | undefined) {
  return name ? entitySpec(name) : undefined;
}

/** Whether an entity has personal fields (users; sessions' joined user name and email). */
function hasPersonalFields(entity: string | undefined): boolean {
  return entityOf(entity)?.fields.some((f) => f.personal) ?? false;
}

/** Whether an entity is keyed by a personal field (users, by email). */
function keyIsPersonal(entity: string | undefined): boolean {
  const spec = entityOf(entity);
  return spec ? spec.fields.some((f) => f.personal && spec.keyFields.includes(f.key)) : false;
}

/**
 * A row error as the reader may see it. Without `pii`: the value withheld
 * when it shows a personal value, those values cut out of the reason, and —
 * for an entity with personal fields — excerpts of the file that a format's
 * message quotes (a JSON parse error) withheld too, since no parsed values
 * say what they contain.
 */
export function rowErrorForReader(error: RowError, entity: string | undefined, seesPersonalData: boolean): RowError {
  const { personal = [], ...shown } = error;
  if (seesPersonalData) return shown;
  if (personal.length > 0) {
    if (shown.value !== undefined && personal.some((p) => shown.value!.includes(p))) shown.value = WITHHELD;
    shown.reason = redact(shown.reason, personal, WITHHELD);
  }
  // A bundle's errors name their part (`users.csv`, sheet `users`): its entity is the part's.
  if (hasPersonalFields(entity ?? shown.part?.split(".")[0]?.toLowerCase())) shown.reason = scrubPluginReason(shown.reason, true);
  return shown;
}

/**
 * An export filter (protobuf JSON text) with each part of each key withheld
 * when the keys are personal: still a valid Filter (how many keys, and of
 * what shape, stays visible).
 */
function filterForReader(filter: string | undefined, entity: string | undefined, seesPersonalData: boolean): string | undefined {
  if (filter === undefined || seesPersonalData || !keyIsPersonal(entity)) return filter;
  try {
    const value = JSON.parse(filter) as { keys?: { parts?: unknown[] }[] };
    if (!Array.isArray(value.keys)) return filter;
    value.keys = value.keys.map((key) => ({ parts: (key.parts ?? []).map(() => WITHHELD) }));
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The job as the reader may see it (see the module comment). */
export function jobForReader(job: JobDocument, seesPersonalData: boolean): JobDocument {
  const view: JobDocument = { ...job, errors: job.errors.map((e) => rowErrorForReader(e, job.entity, seesPersonalData)) };
  if (seesPersonalData) return view;
  const filter = filterForReader(job.filter, job.entity, seesPersonalData);
  if (filter === undefined) delete view.filter;
  else view.filter = filter;
  // A bundle's parts keep their own filters: each withheld by its own entity's rule.
  if (job.parts)
    view.parts = job.parts.map((part) => {
      const { filter: partFilter, ...rest } = part;
      const shown = filterForReader(partFilter, part.entity, seesPersonalData);
      return shown === undefined ? rest : { ...rest, filter: shown };
    });
  // A stopped import's reason may quote the file, as its row errors may.
  if (view.error !== undefined && hasPersonalFields(job.entity)) view.error = scrubPluginReason(view.error, true);
  return view;
}
