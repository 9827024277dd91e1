/**
 * Who is calling, on a server built without authentication (tests,
 * embedding): the server builder fills this context value from an optional
 * `subjectOf` function (by default nobody: "anonymous"), and every job
 * records it. With authentication on, the subject is the verified
 * principal's (caller.ts) and `subjectOf` is ignored.
 */
import { createContextKey } from "@connectrpc/connect";

export const ANONYMOUS = "anonymous";

/** The caller's subject, for HandlerContext.values. */
export const SUBJECT = createContextKey<string>(ANONYMOUS, { description: "the caller's subject on a server without authentication" });

/** Reads the subject from request headers; undefined means anonymous. */
export type SubjectResolver = (req: { headers: Record<string, string | string[] | undefined> }) => string | undefined;
