/**
 * The bundle a download URL describes: `GET /export/{format}?bundle=users,courses`
 * as a bundle export job request, the same the ExportBundle RPC's message
 * becomes. Per-entity settings are the single export's records parameters
 * prefixed with the entity and a dot — `users.fields=email,username`,
 * `users.status=active`, `courses.sort=code`, `users.limit=100`,
 * `users.labels={…}`, `sessions.from=…` — and `options` (the format's, one
 * for the whole file) is the only other parameter.
 *
 * Refused with 400 before anything is read: a parameter that is not one of
 * those (an unprefixed `fields`, which would be ambiguous; `entity`,
 * `source` or `changed_since`, which contradict a bundle of records), an
 * entity prefix for an entity the bundle does not name, an unknown entity,
 * an entity named twice.
 */
import { ENTITY_NAMES } from "../../../domain/index.js";
import { InvalidTransferRequestError } from "../../errors.js";
import type { BundlePartRequest, ExportBundleJobRequest } from "../../jobs/export-bundle-job.js";
import { requireEntityName } from "../../transfer-context.js";
import { aliasOf, exportRequestFromQuery, optionsParam, RECORDS_EXPORT_PARAMS } from "./export-query.js";
import { refuseUnknownQuery, type ParamSpec } from "./request-params.js";

/** What each entity of a bundle takes, after its prefix: a single export's records parameters but the bundle-wide ones. */
const PART_PARAMS: readonly ParamSpec[] = RECORDS_EXPORT_PARAMS.filter((p) => !["source", "entity", "changed_since", "options"].includes(p.name));

export function bundleRequestFromQuery(formatSegment: string, query: URLSearchParams): ExportBundleJobRequest {
  if (query.getAll("bundle").length > 1) throw new InvalidTransferRequestError("bundle is given more than once: name every entity in one bundle=users,courses,…", "bundle");
  const names = (query.get("bundle") ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidTransferRequestError(`bundle names no entity: bundle=users,courses,… (any of ${ENTITY_NAMES.join(", ")})`, "bundle");
  const entities = names.map((name) => {
    try {
      return requireEntityName(name);
    } catch (error) {
      throw new InvalidTransferRequestError(`bundle: ${(error as Error).message}`, "bundle");
    }
  });
  const named = new Set(entities.map((e) => e.name));
  if (named.size < entities.length) throw new InvalidTransferRequestError(`bundle names an entity twice: ${names.join(",")}`, "bundle");
  // A prefix of an entity the bundle does not hold is a mistake worth naming as such (not just "unknown parameter").
  for (const key of query.keys()) {
    const prefix = key.includes(".") ? key.slice(0, key.indexOf(".")) : undefined;
    if (prefix && (ENTITY_NAMES as string[]).includes(prefix) && !(named as Set<string>).has(prefix))
      throw new InvalidTransferRequestError(`${key} is for ${prefix}, which the bundle does not name (bundle=${names.join(",")})`, key);
  }
  refuseUnknownQuery(
    query,
    [{ name: "bundle" }, { name: "options" }, ...entities.flatMap((e) => PART_PARAMS.map((p) => ({ ...p, name: `${e.name}.${p.name}` })))],
    "a bundle export (bundle=…; per entity users.fields, users.status, …)",
  );
  const format = aliasOf(formatSegment)?.format ?? formatSegment;
  const parts = entities.map((entity): BundlePartRequest => {
    // The entity's own parameters, read exactly as a single export's query is.
    const own = new URLSearchParams([["entity", entity.name]]);
    for (const [key, value] of query) if (key.startsWith(`${entity.name}.`)) own.append(key.slice(entity.name.length + 1), value);
    try {
      const single = exportRequestFromQuery(format, own);
      if (single.target.source !== "records") throw new Error("unreachable: a bundle part is records");
      return { entity, filter: single.target.filter, sort: single.target.sort, fields: single.fields, labels: single.labels, limit: single.limit };
    } catch (error) {
      if (error instanceof InvalidTransferRequestError) throw new InvalidTransferRequestError(`${entity.name}: ${error.message}`, error.field ? `${entity.name}.${error.field}` : "");
      throw error;
    }
  });
  return { format, formatOptions: optionsParam(formatSegment, query), parts };
}
