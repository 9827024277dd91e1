/**
 * A client's name for the request that starts a job (POST /import's
 * `X-Request-Id` header), kept on the job. Why: an upload's answer can be
 * lost — a browser that cancels as the last bytes leave aborts its request
 * while the service is starting the job — and only a name the client chose
 * before sending lets it ask afterwards whether a job started
 * (`GET /jobs?request_id=`, ListJobs' `request_id`), instead of telling a
 * person "nothing was imported" while rows are being written.
 *
 * The name is checked, not cleaned: a value outside {@link REQUEST_ID_PATTERN}
 * is refused (400) before anything is read, so what the client looks up is
 * exactly what was stored.
 */
import { InvalidTransferRequestError } from "../errors.js";

/** 1–128 letters, digits and `.`, `_`, `:`, `-` (a UUID, a ULID, a trace id). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** `value` when it is a request id; a 400 naming `field` otherwise. */
export function requestIdOf(value: string, field: string): string {
  if (REQUEST_ID_PATTERN.test(value)) return value;
  const shown = value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  throw new InvalidTransferRequestError(`${field} must be 1 to 128 letters, digits, '.', '_', ':' or '-' (a UUID, say), not ${shown} (${value.length} characters)`, field);
}
