/**
 * The transfer service's one error-mapping function (connect-node's
 * node-error.ts is the model): every error a handler or route raises becomes
 * exactly one RPC status, with the original kept as `cause` for logs and
 * traces, and each RPC status has one HTTP status for the plain routes.
 */
import { create } from "@bufbuild/protobuf";
import { errorMappingInterceptor } from "../shared/rpc/error-mapping-interceptor.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { MongoError } from "mongodb";
import { isDatabaseUnavailable } from "../shared/mongo/database-unavailable.js";
import { ZodError } from "zod";
import { FormatError } from "../../formats/_sdk/index.js";
import { FieldViolationsSchema, RecordErrorSchema } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService as TransferServiceDesc } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { TransferCancelledError, TransferSettingsError, UnwritableExportError } from "./core/errors.js";
import { FormatPluginError, WorkerPoolClosedError } from "./plugins/workers/index.js";
import { InvalidAuditFilterError, InvalidAuditPageTokenError } from "../shared/audit/index.js";
import {
  InvalidTransferRequestError,
  JobLeaseLostError,
  JobRecordUnavailableError,
  FailedRowsNotKeptError,
  JobNotFoundError,
  ImportBudgetExceededError,
  LimitExceededError,
  NotRevertibleError,
  TransferDisabledError,
  UnknownFormatError,
  UnsupportedFormatOperationError,
} from "./errors.js";

function violations(issues: { field: string; reason: string }[]) {
  if (issues.length === 0) return undefined;
  return [{ desc: FieldViolationsSchema, value: create(FieldViolationsSchema, { violations: issues.map((i) => create(RecordErrorSchema, { field: i.field, reason: i.reason, code: "invalid" })) }) }];
}

function status(message: string, code: Code, cause: unknown, issues: { field: string; reason: string }[] = []): ConnectError {
  return new ConnectError(message, code, undefined, violations(issues), cause);
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

export function toConnectError(error: unknown): ConnectError {
  // Cancellation first: a cancelled job often surfaces as whatever the
  // aborted operation threw (a records call, a cursor), and the caller must
  // see CANCELLED, not that by-product.
  if (error instanceof TransferCancelledError || isAbort(error)) return status("the job was cancelled", Code.Canceled, error);
  if (error instanceof ConnectError) {
    // The records service (or the network to it) is down: retrying later may work.
    // A bare UNAVAILABLE (no cause of ours) comes from the records client.
    const ours = error.cause instanceof ConnectError || error.cause instanceof TransferDisabledError || error.cause instanceof MongoError;
    if (error.code === Code.Unavailable && !ours && !/shutting down/.test(error.rawMessage)) {
      return status(`the records service is unavailable: ${error.rawMessage}`, Code.Unavailable, error);
    }
    // Already a status (raised on purpose here, or by the records service, whose
    // INVALID_ARGUMENT for a bad filter or field is the caller's to fix too).
    return error;
  }
  if (error instanceof TransferDisabledError) return status(error.message, Code.Unavailable, error);
  // The service is stopping: another instance (or this one, restarted) can take the job.
  if (error instanceof WorkerPoolClosedError) return status(error.message, Code.Unavailable, error);
  // Settings the caller must fix: bad options, unknown fields, bad mappings.
  if (error instanceof TransferSettingsError)
    return status(
      error.message,
      Code.InvalidArgument,
      error,
      error.issues.map((i) => ({ field: i.setting, reason: i.reason })),
    );
  if (error instanceof InvalidAuditFilterError) return status(error.message, Code.InvalidArgument, error, [{ field: error.field, reason: error.message }]);
  if (error instanceof InvalidAuditPageTokenError) return status(error.message, Code.InvalidArgument, error, [{ field: "page_token", reason: error.message }]);
  if (error instanceof InvalidTransferRequestError) return status(error.message, Code.InvalidArgument, error, error.field ? [{ field: error.field, reason: error.message }] : []);
  if (error instanceof UnsupportedFormatOperationError) return status(error.message, Code.InvalidArgument, error);
  // A file that cannot be read further (broken JSON, a cut-off quote): the
  // caller's file is wrong, not the service.
  if (error instanceof FormatError) return status(`the file cannot be read: ${error.message}`, Code.InvalidArgument, error);
  // Data the export's format cannot hold (a character its encoding lacks, a text longer than an Excel cell).
  if (error instanceof UnwritableExportError) return status(error.message, Code.InvalidArgument, error);
  if (error instanceof ZodError) return status(`invalid request: ${error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, Code.InvalidArgument, error);
  // A plugin that threw, hung, ran out of memory or crashed its worker: the
  // service's fault, not the caller's, and retrying the same file would fail
  // the same way. The message names the plugin and what happened.
  if (error instanceof FormatPluginError) return status(error.message, Code.Internal, error);
  // A format name is addressed like a resource (`/export/{format}`): NOT_FOUND.
  if (error instanceof UnknownFormatError) return status(error.message, Code.NotFound, error);
  if (error instanceof JobNotFoundError) return status(error.message, Code.NotFound, error);
  // A limit is a quota on what one job may take: RESOURCE_EXHAUSTED, per the
  // gRPC status guide ("some resource has been exhausted, perhaps a per-user quota").
  if (error instanceof LimitExceededError) return status(error.message, Code.ResourceExhausted, error);
  // Another instance took the job for stopped and ended it: a conflict between instances, ABORTED.
  if (error instanceof JobLeaseLostError) return status(error.message, Code.Aborted, error);
  // The job's end could not be recorded: the database is away, try again later.
  if (error instanceof JobRecordUnavailableError) return status(error.message, Code.Unavailable, error);
  // The job exists, but kept no rows to give back (the errors view has them).
  if (error instanceof FailedRowsNotKeptError) return status(error.message, Code.FailedPrecondition, error);
  if (error instanceof ImportBudgetExceededError) return status(error.message, Code.FailedPrecondition, error);
  if (error instanceof NotRevertibleError) return status(error.message, Code.FailedPrecondition, error);
  // The transfer service's own database is down.
  if (isDatabaseUnavailable(error)) return status("the transfer service's database is unavailable; try again later", Code.Unavailable, error);
  return status("internal error in the transfer service", Code.Internal, error);
}

/** Maps what every TransferService method throws, with {@link toConnectError}: the server's innermost interceptor. */
export const transferErrorInterceptor = errorMappingInterceptor(TransferServiceDesc, toConnectError);

/** The HTTP status of an RPC status, for the plain HTTP/1.1 routes. */
export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.FailedPrecondition:
      return 412;
    case Code.ResourceExhausted:
      // Every limit the routes enforce is about the size of what was sent.
      return 413;
    case Code.Canceled:
      return 499;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    case Code.DeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

/** snake_case name of a code ("resource_exhausted"), for JSON bodies and job records. */
export function codeName(code: Code): string {
  return Code[code]!.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** `{code, message}` and the HTTP status for any error, for the plain routes. */
export function toHttpError(error: unknown): { status: number; body: { code: string; message: string } } {
  const mapped = toConnectError(error);
  return { status: httpStatusOf(mapped.code), body: { code: codeName(mapped.code), message: mapped.rawMessage } };
}
