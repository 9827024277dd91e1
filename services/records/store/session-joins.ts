/**
 * Joined fields for sessions: the user's name and email, the course's title,
 * and the session's activity. FerretDB (and a sharded MongoDB, cheaply) has no
 * $lookup, so each batch of sessions is joined with one `$in` look-up per
 * joined collection: a handful of queries per batch, never one per record.
 */
import type { Db } from "mongodb";
import { ENTITIES } from "../../domain/index.js";
import { collectionFor } from "./collections.js";
import { documentToRecord } from "./documents.js";
import { OperationNotAllowedError } from "../errors.js";

export type SessionJoin = "user" | "course" | "activityIds" | "activities";

/** The joined output fields each join produces. */
export const JOIN_FIELDS: Record<SessionJoin, string[]> = {
  user: ["userName", "userEmail"],
  course: ["courseTitle"],
  activityIds: ["activityIds"],
  activities: ["activities"],
};

/** The stored field each join looks up by. */
export const JOIN_SOURCE: Record<SessionJoin, string> = {
  user: "userId",
  course: "courseId",
  activityIds: "sessionId",
  activities: "sessionId",
};

/**
 * At most this many activity entries are joined onto one session: the list
 * travels inside the session's message. A session with more fails the read,
 * naming it, instead of carrying a list cut at an arbitrary entry.
 */
export const MAX_JOINED_ACTIVITIES = 1000;

function distinct(records: Record<string, unknown>[], field: string): string[] {
  const values = new Set<string>();
  for (const r of records) if (typeof r[field] === "string") values.add(r[field] as string);
  return [...values];
}

export async function joinSessions(db: Db, sessions: Record<string, unknown>[], joins: ReadonlySet<SessionJoin>): Promise<void> {
  if (sessions.length === 0 || joins.size === 0) return;
  const work: Promise<void>[] = [];
  if (joins.has("user")) {
    work.push(
      (async () => {
        const ids = distinct(sessions, "userId");
        const users = await collectionFor(db, ENTITIES.users)
          .find({ username: { $in: ids } }, { projection: { _id: 0, username: 1, email: 1, firstName: 1, lastName: 1 } })
          .toArray();
        const byId = new Map(users.map((u) => [u.username as string, u]));
        for (const s of sessions) {
          const u = byId.get(s.userId as string);
          if (!u) continue;
          const name = [u.firstName, u.lastName].filter((p) => typeof p === "string" && p !== "").join(" ");
          if (name) s.userName = name;
          if (u.email) s.userEmail = u.email;
        }
      })(),
    );
  }
  if (joins.has("course")) {
    work.push(
      (async () => {
        const ids = distinct(sessions, "courseId");
        const courses = await collectionFor(db, ENTITIES.courses)
          .find({ code: { $in: ids } }, { projection: { _id: 0, code: 1, title: 1 } })
          .toArray();
        const byId = new Map(courses.map((c) => [c.code as string, c.title as string]));
        for (const s of sessions) {
          const title = byId.get(s.courseId as string);
          if (title !== undefined) s.courseTitle = title;
        }
      })(),
    );
  }
  if (joins.has("activityIds") || joins.has("activities")) {
    work.push(
      (async () => {
        const ids = distinct(sessions, "sessionId");
        const full = joins.has("activities");
        const cursor = collectionFor(db, ENTITIES.activity).find({ sessionId: { $in: ids } }, full ? {} : { projection: { _id: 1, sessionId: 1 } });
        const bySession = new Map<string, Record<string, unknown>[]>();
        try {
          for await (const doc of cursor) {
            const list = bySession.get(doc.sessionId as string) ?? [];
            if (list.length === MAX_JOINED_ACTIVITIES) throw tooManyToJoin(doc.sessionId as string);
            list.push(documentToRecord(ENTITIES.activity, doc));
            bySession.set(doc.sessionId as string, list);
          }
        } finally {
          await cursor.close();
        }
        for (const s of sessions) {
          const list = bySession.get(s.sessionId as string) ?? [];
          if (joins.has("activityIds")) s.activityIds = list.map((a) => a.id as string);
          if (full) s.activities = list;
        }
      })(),
    );
  }
  await Promise.all(work);
}

function tooManyToJoin(sessionId: string): OperationNotAllowedError {
  return new OperationNotAllowedError(
    `session ${JSON.stringify(sessionId)} has more than ${MAX_JOINED_ACTIVITIES} activity entries, more than a joined list carries: read them from the activity log filtered by that session (entity activity, session_id=${sessionId}) rather than have the list cut`,
  );
}
