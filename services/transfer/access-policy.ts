/**
 * Who may do what in the transfer service: THE one place. Roles grant
 * permissions; the auth interceptor applies the method rules below to every
 * request message, the plain HTTP routes check the same permissions, and the
 * handlers and jobs ask the functions here what a request message cannot
 * decide alone: whose job it is, whose jobs a listing shows, which fields an
 * export may read. No access decision is made anywhere else.
 *
 * | role     | Import | … dry run | Export | DescribeEntity | ListFormats | jobs (Get/List/FailedRows) | CancelJob | RevertImport | audit trail |
 * |----------|--------|-----------|--------|----------------|-------------|----------------------------|-----------|--------------|-------------|
 * | admin    | all    | all       | all    | all            | yes         | everyone's                 | everyone's| everyone's   | yes         |
 * | importer | all    | all       |        | all            | yes         | its own                    | its own   | its own      |             |
 * | exporter |        |           | all    | all            | yes         | its own                    | its own   |              |             |
 * | auditor  |        |           |        |                | yes         | everyone's                 |           |              | yes         |
 * | pii      | (a permission: personal fields in exports, personal keys in the audit trail) |
 * | service  | nothing: no service calls the transfer service for a user |
 *
 * Personal fields in exports are decided by the records service: the
 * transfer service calls it for the user (their roles forwarded), so an
 * exporter without `pii` gets users without emails and names. The audit
 * trail is read with ListAuditEvents or exported (Export with source
 * EXPORT_SOURCE_AUDIT_EVENTS, `GET /export/{format}?source=audit`).
 */
import { defaultReadFields, ENTITIES, type EntityName, type EntitySpec } from "../domain/index.js";
import {
  TransferService,
  ExportSource,
  type DescribeEntityRequest,
  type ExportBundleRequest,
  type ExportRequest,
  type ImportBundleRequest,
  type ImportRequest,
  type PreviewImportRequest,
} from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { entityName } from "../shared/records-wire/record-codec.js";
import { actingSubject, type AccessPolicy, type CallRule, type Principal } from "../shared/auth/index.js";

export const ENTITY_OPERATIONS = ["import", "validate", "export", "describe"] as const;
export type EntityOperation = (typeof ENTITY_OPERATIONS)[number];

/** Permissions that are not per entity. */
export const PERMISSIONS = {
  listFormats: "formats:list",
  readOwnJobs: "jobs:read:own",
  readAllJobs: "jobs:read:all",
  cancelOwnJobs: "jobs:cancel:own",
  cancelAllJobs: "jobs:cancel:all",
  revertOwnImports: "imports:revert:own",
  revertAllImports: "imports:revert:all",
  readAudit: "audit:read",
  pii: "pii",
} as const;

const ALL_ENTITIES = Object.keys(ENTITIES) as EntityName[];

/** `import:users`, `export:courses`, … */
export function permission(operation: EntityOperation, entity: EntityName): string {
  return `${operation}:${entity}`;
}

function grant(operations: readonly EntityOperation[], entities: readonly EntityName[] = ALL_ENTITIES): string[] {
  return operations.flatMap((op) => entities.map((e) => permission(op, e)));
}

const P = PERMISSIONS;

/** The role table (see the module comment and services/shared/auth/README.md). */
export const TRANSFER_ACCESS_POLICY: AccessPolicy = {
  roles: {
    admin: [...grant(ENTITY_OPERATIONS), P.listFormats, P.readAllJobs, P.readOwnJobs, P.cancelAllJobs, P.cancelOwnJobs, P.revertAllImports, P.revertOwnImports, P.readAudit],
    importer: [...grant(["import", "validate", "describe"]), P.listFormats, P.readOwnJobs, P.cancelOwnJobs, P.revertOwnImports],
    exporter: [...grant(["export", "describe"]), P.listFormats, P.readOwnJobs, P.cancelOwnJobs],
    auditor: [P.listFormats, P.readAllJobs, P.readAudit],
    pii: [P.pii],
    // `service` grants nothing here: a token with it (even with on-behalf-of
    // headers) may call nothing but health and reflection.
  },
  serviceRole: "service",
  serviceAlone: [],
};

/** Roles that grant a permission, for denial messages that say what would help. */
function rolesGranting(perm: string): string[] {
  return Object.entries(TRANSFER_ACCESS_POLICY.roles)
    .filter(([, perms]) => perms.includes(perm))
    .map(([role]) => role);
}

function who(principal: Principal): string {
  return `${principal.subject} (roles ${principal.roles.join(", ") || "none"})`;
}

/** The denial message for an action that needs `perm`. */
export function denial(what: string, perm: string, principal: Principal): string {
  return `${what} needs one of the roles ${rolesGranting(perm).join(", ")}; ${who(principal)} may not`;
}

/**
 * Undefined when the principal may run the operation on the entity; else why
 * not. An unset entity needs it on some entity (the handler then refuses the
 * request as invalid).
 */
export function checkEntityOperation(principal: Principal, operations: readonly EntityOperation[], entity: EntityName | undefined, what: string = operations[0]!): string | undefined {
  const candidates = entity ? [entity] : ALL_ENTITIES;
  if (operations.some((op) => candidates.some((e) => principal.permissions.has(permission(op, e))))) return undefined;
  return denial(`${what} of ${entity ?? "any entity"}`, permission(operations[0]!, entity ?? "users"), principal);
}

/** Export of records needs `export:<entity>`; export of the audit trail needs `audit:read`. */
export function checkExport(principal: Principal, source: "records" | "audit" | "deletions", entity: EntityName | undefined): string | undefined {
  if (source === "audit") return principal.permissions.has(P.readAudit) ? undefined : denial("exporting the audit trail", P.readAudit, principal);
  return checkEntityOperation(principal, ["export"], entity);
}

/** An import needs `import:<entity>`; a dry run `validate:<entity>` or `import:<entity>`. */
export function checkImport(principal: Principal, entity: EntityName | undefined, dryRun: boolean): string | undefined {
  return dryRun ? checkEntityOperation(principal, ["validate", "import"], entity, "a dry-run import") : checkEntityOperation(principal, ["import"], entity);
}

function needs(perm: string, what: string): CallRule {
  return (_message, principal) => (principal.permissions.has(perm) ? undefined : denial(what, perm, principal));
}

function needsEither(own: string, all: string, what: string): CallRule {
  return (_message, principal) => (principal.permissions.has(own) || principal.permissions.has(all) ? undefined : denial(what, own, principal));
}

/** May the principal read (GetJob, GetFailedRows) the job of `subject`? Undefined when yes. */
export function checkJobAccess(principal: Principal, jobId: string, jobSubject: string, action: "read" | "cancel"): string | undefined {
  const all = action === "read" ? P.readAllJobs : P.cancelAllJobs;
  const own = action === "read" ? P.readOwnJobs : P.cancelOwnJobs;
  if (principal.permissions.has(all)) return undefined;
  if (principal.permissions.has(own) && jobSubject === actingSubject(principal)) return undefined;
  return `job ${jobId} belongs to another user; ${action === "read" ? "reading" : "cancelling"} other users' jobs needs one of the roles ${rolesGranting(all).join(", ")}; ${who(principal)} may not`;
}

/**
 * May the principal revert (RevertImport) the import `job`? Their own with
 * `imports:revert:own` (importer), anyone's with `imports:revert:all`
 * (admin), and in both cases only with the right to import its entity: a
 * revert writes what an import of it would. Undefined when yes.
 */
export function checkRevert(principal: Principal, job: { _id: string; subject: string; entity?: EntityName; parts?: readonly { entity: EntityName }[] }): string | undefined {
  const own = principal.permissions.has(P.revertOwnImports) && job.subject === actingSubject(principal);
  if (!principal.permissions.has(P.revertAllImports) && !own) {
    if (!principal.permissions.has(P.revertOwnImports)) return denial("reverting imports", P.revertOwnImports, principal);
    return `job ${job._id} belongs to another user; reverting other users' imports needs one of the roles ${rolesGranting(P.revertAllImports).join(", ")}; ${who(principal)} may not`;
  }
  // A bundle: every part's entity, as its import needed.
  for (const part of job.parts ?? []) {
    const denied = checkEntityOperation(principal, ["import"], part.entity, "a revert");
    if (denied) return denied;
  }
  return checkEntityOperation(principal, ["import"], job.entity, "a revert");
}

/** True when ListJobs must be narrowed to the caller's own jobs. */
export function ownJobsOnly(principal: Principal): boolean {
  return !principal.permissions.has(P.readAllJobs);
}

/**
 * Whose jobs a listing shows: `requested` (unset: everyone's) for a reader of
 * all jobs; the caller's own otherwise, and a request for another user's is
 * refused. `denied` says why.
 */
export function listedJobsSubject(principal: Principal, requested: string | undefined): { subject?: string; denied?: string } {
  if (!ownJobsOnly(principal)) return { subject: requested };
  const self = actingSubject(principal);
  if (requested && requested !== self)
    return { denied: `listing the jobs of ${requested} needs one of the roles ${rolesGranting(P.readAllJobs).join(", ")}; ${principal.subject} may list only their own` };
  return { subject: self };
}

/**
 * The fields an export of `spec` reads for a principal: without `pii`, a
 * default selection (none requested) leaves personal fields out, and naming
 * one is refused (`denied`). Undefined `fields`: the default selection
 * (`defaultReadFields`: joined fields only when named).
 */
export function exportFieldsFor(spec: EntitySpec, requested: readonly string[], principal: Principal | undefined): { fields?: string[]; denied?: string } {
  const selected = requested.length > 0 ? [...requested] : undefined;
  if (seesPersonalData(principal)) return { fields: selected };
  const personal = new Set(spec.fields.filter((f) => f.personal).map((f) => f.key));
  if (personal.size === 0) return { fields: selected };
  if (!selected)
    return {
      fields: defaultReadFields(spec)
        .filter((f) => !personal.has(f.key))
        .map((f) => f.key),
    };
  const named = [...new Set(selected.map((f) => f.split(".")[0]!).filter((f) => personal.has(f)))];
  if (named.length > 0) return { denied: `${named.join(", ")} ${named.length === 1 ? "is" : "are"} personal data of ${spec.name} and need the "${P.pii}" role` };
  return { fields: selected };
}

/** True when the principal may see personal data the transfer service itself holds (personal keys in the audit trail). */
export function seesPersonalData(principal: Principal | undefined): boolean {
  return !principal || principal.permissions.has(P.pii);
}

/** The source an Export request reads. */
export function exportSourceOf(request: Pick<ExportRequest, "source">): "records" | "audit" | "deletions" {
  return request.source === ExportSource.AUDIT_EVENTS ? "audit" : request.source === ExportSource.DELETIONS ? "deletions" : "records";
}

const path = (method: keyof typeof TransferService.method) => `${TransferService.typeName}/${TransferService.method[method].name}`;

/** One rule per transfer RPC; an RPC missing here is denied to everyone. */
export const TRANSFER_METHOD_RULES: Readonly<Record<string, CallRule>> = {
  [path("listFormats")]: needs(P.listFormats, "listing formats"),
  [path("describeEntity")]: (message, principal) => checkEntityOperation(principal, ["describe"], entityName((message as DescribeEntityRequest).entity)),
  [path("export")]: (message, principal) => {
    const request = message as ExportRequest;
    return checkExport(principal, exportSourceOf(request), entityName(request.entity));
  },
  // Every part's entity: a bundle is the caller's single exports in one file.
  [path("exportBundle")]: (message, principal) => {
    const parts = (message as ExportBundleRequest).parts;
    if (parts.length === 0) return checkExport(principal, "records", undefined);
    for (const part of parts) {
      const denied = checkExport(principal, "records", entityName(part.entity));
      if (denied) return denied;
    }
    return undefined;
  },
  // Checked message by message: the header decides; the chunks after it need
  // the right to import something (a file without a header is refused by the
  // handler as invalid).
  [path("import")]: (message, principal) => {
    const request = (message as ImportRequest).message;
    if (request.case === "header") return checkImport(principal, entityName(request.value.entity), request.value.dryRun);
    return checkImport(principal, undefined, true);
  },
  // The header names only the entities it gives settings for: those are
  // checked here, and every part the file holds once it is opened, before
  // anything is written (jobs/import-bundle-job.ts).
  [path("importBundle")]: (message, principal) => {
    const request = (message as ImportBundleRequest).message;
    if (request.case !== "header") return checkImport(principal, undefined, true);
    for (const part of request.value.parts) {
      const denied = checkImport(principal, entityName(part.entity), request.value.dryRun);
      if (denied) return denied;
    }
    return checkImport(principal, undefined, request.value.dryRun);
  },
  // A preview writes nothing: what a dry run of the entity needs.
  [path("previewImport")]: (message, principal) => checkImport(principal, entityName((message as PreviewImportRequest).header?.entity ?? 0), true),
  [path("getJob")]: needsEither(P.readOwnJobs, P.readAllJobs, "reading jobs"),
  [path("watchJob")]: needsEither(P.readOwnJobs, P.readAllJobs, "watching jobs"),
  [path("listJobs")]: needsEither(P.readOwnJobs, P.readAllJobs, "listing jobs"),
  [path("getFailedRows")]: needsEither(P.readOwnJobs, P.readAllJobs, "reading a job's failed rows"),
  [path("cancelJob")]: needsEither(P.cancelOwnJobs, P.cancelAllJobs, "cancelling jobs"),
  // Whose import it is, and its entity, are checked once the job is read (checkRevert).
  [path("revertImport")]: needsEither(P.revertOwnImports, P.revertAllImports, "reverting imports"),
  [path("listAuditEvents")]: needs(P.readAudit, "reading the audit trail"),
};
