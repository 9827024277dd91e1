/**
 * The one record codec both services use: a record encoded for a response
 * and for a write differ only where RecordEncoding says (write-only and
 * read-only fields, and a write's checked values), and a decoded record is
 * plain whichever side reads it.
 */
import { describe, expect, it } from "vitest";
import { ENTITIES } from "../../services/domain/index.js";
import { decodeRecord, encodeRecord, UnencodableValueError } from "../../services/shared/records-wire/record-codec.js";

const created = new Date("2024-01-01T00:00:00Z");
const updated = new Date("2024-02-01T00:00:00Z");
const user = { email: "ada@example.org", username: "ada", createdAt: created, updatedAt: updated, password: "correct horse battery" };

const fieldsOf = (message: ReturnType<typeof encodeRecord>) =>
  Object.keys(message.kind.value ?? {}).filter((key) => !key.startsWith("$") && (message.kind.value as Record<string, unknown>)[key] !== undefined);

describe("encoding a record for a response", () => {
  it("never encodes a write-only field, and keeps the read-only ones the server set", () => {
    const message = encodeRecord(ENTITIES.users, user, "response");
    expect(message.kind.case).toBe("user");
    expect(fieldsOf(message)).not.toContain("password");
    expect(decodeRecord(ENTITIES.users, message)).toEqual({ ok: true, record: { email: "ada@example.org", username: "ada", createdAt: created, updatedAt: updated } });
  });

  it("encodes a session's joined activity entries, which decode back to plain records with dates", () => {
    const at = new Date("2024-03-01T10:00:00Z");
    const session = { sessionId: "s1", userId: "ada", courseId: "C1", startedAt: created, userName: "Ada L", activities: [{ userId: "ada", action: "view", at }] };
    const decoded = decodeRecord(ENTITIES.sessions, encodeRecord(ENTITIES.sessions, session, "response"));
    expect(decoded).toEqual({ ok: true, record: session });
  });
});

describe("encoding a record for a write", () => {
  it("sends the write-only password and leaves out what only the server sets", () => {
    const message = encodeRecord(ENTITIES.users, user, "write");
    expect(fieldsOf(message)).toContain("password");
    expect(fieldsOf(message)).not.toContain("updatedAt");
    expect(decodeRecord(ENTITIES.users, message)).toEqual({ ok: true, record: { email: "ada@example.org", username: "ada", createdAt: created, password: "correct horse battery" } });
  });

  it.each([
    ["users", "username", 42, "expected text"],
    ["users", "createdAt", "2024-01-01", "expected a timestamp"],
    ["users", "createdAt", new Date("not a date"), "expected a timestamp"],
    ["sessions", "score", Number.NaN, "expected a finite number"],
    ["activity", "details", [1, 2], "expected an object"],
  ] as const)("refuses a %s %s of %o, naming the field: %s", (entity, field, value, reason) => {
    const encode = () => encodeRecord(ENTITIES[entity], { [field]: value }, "write");
    expect(encode).toThrow(UnencodableValueError);
    expect(encode).toThrow(expect.objectContaining({ field, message: reason }));
  });

  it("passes the same values through a response unchecked, as the store holds them", () => {
    expect(() => encodeRecord(ENTITIES.sessions, { score: Number.NaN }, "response")).not.toThrow();
  });
});

describe("decoding a record", () => {
  it("refuses a record of another entity, naming both", () => {
    expect(decodeRecord(ENTITIES.users, encodeRecord(ENTITIES.courses, { code: "C1" }, "write"))).toEqual({ ok: false, reason: "the record is a course, but this call writes users" });
  });
});
