/**
 * Who is calling. Authentication lands later; until then the server builder
 * fills this context value from an optional `subjectOf` function (by default
 * nobody: "anonymous"), and every job records it.
 */
import { createContextKey } from "@connectrpc/connect";

export const ANONYMOUS = "anonymous";

/** The caller's subject, for HandlerContext.values. */
export const SUBJECT = createContextKey<string>(ANONYMOUS, { description: "the authenticated caller's subject" });

/** Reads the subject from request headers; undefined means anonymous. */
export type SubjectResolver = (req: { headers: Record<string, string | string[] | undefined> }) => string | undefined;
