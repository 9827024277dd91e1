/**
 * What the transfer service's handlers and routes share: configuration, the
 * loaded plugins, the records client, the job store and the registry of
 * running jobs. Built once by the server builder and passed in, so that the
 * service class, the HTTP routes and the tests use the same parts.
 */
import type { Db } from "mongodb";
import type { FormatPlugin } from "../../formats/_sdk/index.js";
import type { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { entitySpec, type EntitySpec } from "../domain/index.js";
import type { AuditLog } from "../shared/audit/index.js";
import { entityName } from "../shared/records-wire/record-codec.js";
import type { TransferConfig } from "./config/transfer-config.js";
import { InvalidTransferRequestError, UnknownFormatError, UnsupportedFormatOperationError } from "./errors.js";
import type { JobRegistry } from "./jobs/job-registry.js";
import type { JobStore } from "./jobs/job-store.js";
import type { DiscoveredPlugins } from "./plugins/index.js";
import type { RecordsClient } from "./records/records-client.js";

export interface TransferContext {
  config: TransferConfig;
  plugins: DiscoveredPlugins;
  records: RecordsClient;
  jobs: JobStore;
  registry: JobRegistry;
  /** The transfer service's own database (jobs, staging, audit trail). */
  db: Db;
  /** The audit trail of imports and exports (`audit_events`, append-only). */
  audit: AuditLog;
  log: (...args: unknown[]) => void;
}

/** The entity of a request, or an INVALID_ARGUMENT naming the request field. */
export function requireEntity(value: Entity, field: string): EntitySpec {
  const name = entityName(value);
  const spec = name ? entitySpec(name) : undefined;
  if (!spec) throw new InvalidTransferRequestError(`${field} must name an entity (users, courses, sessions, enrollments, activity)`, field);
  return spec;
}

/** An entity by its name (HTTP routes), or an INVALID_ARGUMENT. */
export function requireEntityName(name: string | null | undefined, field = "entity"): EntitySpec {
  const spec = name ? entitySpec(name.trim().toLowerCase()) : undefined;
  if (!spec) throw new InvalidTransferRequestError(`${field} must be one of users, courses, sessions, enrollments, activity${name ? `, not ${JSON.stringify(name)}` : ""}`, field);
  return spec;
}

/** A loaded plugin that can do `operation`, or an error saying why not. */
export function requireFormat(ctx: Pick<TransferContext, "plugins">, name: string, operation: "read" | "write"): FormatPlugin {
  const key = name.trim().toLowerCase();
  if (!key) throw new InvalidTransferRequestError("format is required (see ListFormats)", "format");
  const plugin = ctx.plugins.plugins.get(key);
  if (!plugin) {
    const failure = ctx.plugins.failures.find((f) => f.name === key);
    throw new UnknownFormatError(key, [...ctx.plugins.plugins.keys()], failure?.error);
  }
  if (operation === "read" ? !plugin.read : !plugin.write) throw new UnsupportedFormatOperationError(key, operation);
  return plugin;
}
