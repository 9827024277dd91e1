/**
 * The records service's one error-mapping function (connect-node's
 * node-error.ts is the model): every error a handler raises becomes exactly
 * one RPC status, with the original kept as `cause` for logs and traces.
 * Handlers throw domain errors; {@link recordsErrorInterceptor}, the server's
 * innermost interceptor (server.ts), applies the mapping to all of them.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { errorMappingInterceptor } from "../shared/rpc/error-mapping-interceptor.js";
import { create } from "@bufbuild/protobuf";
import { MongoServerError } from "mongodb";
import { isDatabaseUnavailable } from "../shared/mongo/database-unavailable.js";
import type { FieldIssue } from "../domain/index.js";
import { FieldViolationsSchema, RecordErrorSchema, RecordsService as RecordsServiceDesc } from "../../gen/dataexchange/records/v1/records_pb.js";
import { InvalidAuditFilterError, InvalidAuditPageTokenError } from "../shared/audit/index.js";
import { InvalidRequestError, MissingReferenceError, OperationNotAllowedError, RecordExistsError, RecordNotFoundError, RecordValidationError, WriteInterruptedError } from "./errors.js";

function violations(issues: FieldIssue[]) {
  return [{ desc: FieldViolationsSchema, value: create(FieldViolationsSchema, { violations: issues.map((i) => create(RecordErrorSchema, { field: i.field, reason: i.reason, code: "invalid" })) }) }];
}

function withDetails(message: string, code: Code, cause: unknown, issues: FieldIssue[] = []): ConnectError {
  return new ConnectError(message, code, undefined, issues.length > 0 ? violations(issues) : undefined, cause);
}

export function toConnectError(error: unknown): ConnectError {
  // Already an RPC status (cancellation, deadline, or raised on purpose).
  if (error instanceof ConnectError) return error;
  // The caller sent something the schema refuses: fixable by the caller.
  if (error instanceof RecordValidationError || error instanceof InvalidRequestError) return withDetails(error.message, Code.InvalidArgument, error, error.issues);
  if (error instanceof InvalidAuditFilterError) return withDetails(error.message, Code.InvalidArgument, error, [{ field: error.field, reason: error.message }]);
  if (error instanceof InvalidAuditPageTokenError) return withDetails(error.message, Code.InvalidArgument, error, [{ field: "page_token", reason: error.message }]);
  if (error instanceof RecordNotFoundError) return withDetails(error.message, Code.NotFound, error);
  if (error instanceof RecordExistsError) return withDetails(error.message, Code.AlreadyExists, error);
  // The record is fine, the state of other records is not (a dangling or
  // still-used reference): FAILED_PRECONDITION, per the gRPC status guide.
  if (error instanceof MissingReferenceError) return withDetails(error.message, Code.FailedPrecondition, error, [{ field: error.field, reason: error.message }]);
  if (error instanceof OperationNotAllowedError) return withDetails(error.message, Code.FailedPrecondition, error);
  // A unique index caught a duplicate written concurrently.
  if (error instanceof MongoServerError && error.code === 11000) return withDetails("a record with the same key already exists", Code.AlreadyExists, error);
  // A batch cut off by the database going away: nothing of it is reported
  // written, and the caller learns that some of it may be stored.
  if (error instanceof WriteInterruptedError) return withDetails(`the database is unavailable: ${error.message}`, Code.Unavailable, error);
  // The database is down or unreachable: retrying later may work.
  if (isDatabaseUnavailable(error)) return withDetails("the database is unavailable; try again later", Code.Unavailable, error);
  // Anything else is a bug: say so without leaking internals.
  return withDetails("internal error in the records service", Code.Internal, error);
}

/** Maps what every RecordsService method throws, with {@link toConnectError}: the server's innermost interceptor. */
export const recordsErrorInterceptor = errorMappingInterceptor(RecordsServiceDesc, toConnectError);
