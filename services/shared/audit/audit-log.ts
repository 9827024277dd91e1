/**
 * The append-only audit trail of one service: the `audit_events` collection
 * in that service's own database.
 *
 * Append-only by construction: this class is the only code that touches the
 * collection, and it has `insertOne` and reads, nothing else. No RPC of
 * either service updates or deletes an event (a test watches every
 * collection method while all of them run). Retention, if a deployment needs
 * it, belongs to the database operator (a TTL index or an archive job run
 * with separate credentials), not to the services.
 */
import { ensureCollectionIndexes } from "../mongo/ensure-indexes.js";
import { cursorBatches } from "../mongo/cursor-batches.js";
import { afterPosition, decodePageToken, encodePageToken } from "../mongo/page-token.js";
import { randomUUID } from "node:crypto";
import type { Collection, Db, Document, Filter } from "mongodb";
import type { EntityName } from "../../domain/index.js";
import type { AuditAction, AuditEventDocument, AuditService, NewAuditEvent } from "./audit-event.js";

export const AUDIT_COLLECTION = "audit_events";
export const DEFAULT_AUDIT_PAGE_SIZE = 50;
export const MAX_AUDIT_PAGE_SIZE = 500;
const MAX_TEXT = 2000;

/** Which events: each condition that is set must hold. */
export interface AuditQuery {
  /** The caller or the user a service acted for. */
  subject?: string;
  action?: AuditAction;
  /** An event of this entity, or of a bundle job with a part of it. */
  entity?: EntityName;
  /** At or after. */
  from?: Date;
  /** Before. */
  to?: Date;
}

/** Raised for a page token this log did not issue. */
export class InvalidAuditPageTokenError extends Error {
  override name = "InvalidAuditPageTokenError";
}

/** FerretDB refuses NUL characters, and an audit event needs no megabyte messages. */
function storable(value: string): string {
  const clean = value.replace(/\u0000/g, "\uFFFD");
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

export class AuditLog {
  readonly #events: Collection<AuditEventDocument>;

  constructor(
    db: Db,
    readonly service: AuditService,
  ) {
    this.#events = db.collection<AuditEventDocument>(AUDIT_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await ensureCollectionIndexes(this.#events as unknown as Collection<Document>, [
      { key: { time: -1, _id: -1 }, name: "time" },
      { key: { subject: 1, time: -1 }, name: "subject_time" },
      { key: { onBehalfOf: 1, time: -1 }, name: "on_behalf_of_time" },
      { key: { action: 1, time: -1 }, name: "action_time" },
    ]);
  }

  /** Appends one event (insertOne: never an update). Resolves to the stored event. */
  async append(event: NewAuditEvent): Promise<AuditEventDocument> {
    const doc: AuditEventDocument = { ...event, _id: randomUUID(), time: new Date(), service: this.service, counts: { ...event.counts } };
    if (doc.error !== undefined) doc.error = storable(doc.error);
    if (doc.filter !== undefined) doc.filter = storable(doc.filter);
    for (const key of Object.keys(doc) as (keyof AuditEventDocument)[]) if (doc[key] === undefined) delete doc[key];
    for (const key of Object.keys(doc.counts) as (keyof typeof doc.counts)[]) if (doc.counts[key] === undefined) delete doc.counts[key];
    await this.#events.insertOne(doc);
    return doc;
  }

  /** Newest first; the page token is the position after the page's last event. */
  async list(query: AuditQuery, pageSize = DEFAULT_AUDIT_PAGE_SIZE, pageToken = ""): Promise<{ events: AuditEventDocument[]; nextPageToken: string }> {
    const size = Math.min(Math.max(pageSize || DEFAULT_AUDIT_PAGE_SIZE, 1), MAX_AUDIT_PAGE_SIZE);
    const and = conditions(query);
    if (pageToken) {
      const after = decodePageToken(pageToken);
      if (after === undefined) throw new InvalidAuditPageTokenError("the page token is not one this service issued");
      and.push(afterPosition("time", after) as Filter<AuditEventDocument>);
    }
    const events = await this.#events.find(combine(and), { sort: { time: -1, _id: -1 }, limit: size + 1 }).toArray();
    const more = events.length > size;
    if (more) events.length = size;
    const last = events[events.length - 1];
    return { events, nextPageToken: more && last ? encodePageToken({ time: last.time, id: last._id }) : "" };
  }

  /**
   * Every matching event, oldest first, read in batches from one cursor (an
   * export of the trail). Breaking out of the loop closes the cursor.
   */
  async *stream(query: AuditQuery, batchSize = 500): AsyncGenerator<AuditEventDocument[]> {
    yield* cursorBatches(this.#events.find(combine(conditions(query)), { sort: { time: 1, _id: 1 }, batchSize }), batchSize);
  }
}

function conditions(query: AuditQuery): Filter<AuditEventDocument>[] {
  const and: Filter<AuditEventDocument>[] = [];
  if (query.subject) and.push({ $or: [{ subject: query.subject }, { onBehalfOf: query.subject }] });
  if (query.action) and.push({ action: query.action });
  // A bundle job's event has no entity; it lists its parts' entities.
  if (query.entity) and.push({ $or: [{ entity: query.entity }, { entities: query.entity }] });
  if (query.from) and.push({ time: { $gte: query.from } });
  if (query.to) and.push({ time: { $lt: query.to } });
  return and;
}

function combine(and: Filter<AuditEventDocument>[]): Filter<AuditEventDocument> {
  return and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
}
