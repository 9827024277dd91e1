/**
 * Loggers for the servers the tests build in-process.
 *
 * Why they log at all: the auth, audit and transfer tests are where tokens,
 * passwords and files go through the services, so that is where a leak into
 * a log line would happen; the run's secrets check (log-check.ts) can only
 * find it if those servers log as they do in production. Their lines go to
 * the run's capture only (the logger's own DX_LOG_FILE copy), not
 * into the test output.
 */
import { createLogger, type Logger } from "../../services/shared/logging/index.js";

/** A service's logger whose only destination is the run's log capture. */
export function testServiceLogger(service: "records" | "transfer" | "identity"): Logger {
  return createLogger({ service, level: "info", destination: { write: () => undefined } });
}
