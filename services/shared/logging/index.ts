/** Structured, redacted JSON logs with trace and job correlation, and per-RPC request lines. */
export { createLogger, correlationFields, resolveLevel, loggerOptions, type CreateLoggerOptions, type Logger } from "./logger.js";
export { withJobContext, currentJobId, setCurrentJobId, inJobScope, runInJobScope, type JobScope } from "./job-scope.js";
export { REDACTED, REDACT_PATHS, scrubString, scrubValue, looksLikeSecret, isSecretKey, isContentKey } from "./redaction.js";
export { createRequestLoggingInterceptor, peerKey, peerContextValues, socketPeer, type RequestLoggingOptions } from "./request-logging.js";
export { pathOf, withHttpRequestLogging, type HttpHandler } from "./http-request-logging.js";
export { LOG_FILE_VARIABLE, logFileDestination } from "./log-file.js";
