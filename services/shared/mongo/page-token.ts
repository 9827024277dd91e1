/**
 * Keyset pagination over a collection listed newest first: the page token is
 * the position after the page's last document (its time and id), opaque to
 * clients. One codec for every such list (the audit trail, the jobs).
 */
export interface PagePosition {
  time: Date;
  id: string;
}

export function encodePageToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify({ t: position.time.getTime(), i: position.id }), "utf8").toString("base64url");
}

/** The position a token stands for; undefined for a token this codec did not make (each list names its own error). */
export function decodePageToken(token: string): PagePosition | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { t?: unknown; i?: unknown };
    if (typeof value.t === "number" && typeof value.i === "string") return { time: new Date(value.t), id: value.i };
  } catch {
    // not a token of ours
  }
  return undefined;
}

/** The condition for the documents after `position`, newest first by `timeField` then `_id`. */
export function afterPosition(timeField: string, position: PagePosition): Record<string, unknown> {
  return { $or: [{ [timeField]: { $lt: position.time } }, { [timeField]: position.time, _id: { $lt: position.id } }] };
}
