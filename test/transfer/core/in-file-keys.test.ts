/**
 * The in-file duplicate check's compact table (services/transfer/core/in-file-keys.ts):
 * every distinct key is remembered through the table's growth, every repeat is
 * found with the row that first used it, and nothing else is called a repeat.
 */
import { describe, expect, it } from "vitest";
import { ENTITIES } from "../../../services/domain/index.js";
import { InFileKeys } from "../../../services/transfer/core/in-file-keys.js";

const user = (n: number, username = `user${n}`) => ({ email: `user${n}@example.org`, username });

describe("the in-file duplicate check", () => {
  it("remembers 200,000 distinct keys across the table's growth without calling any of them a repeat", () => {
    const keys = new InFileKeys(ENTITIES.sessions);
    for (let row = 0; row < 200_000; row++) expect(keys.claim({ sessionId: `s${row}` }, row)).toBeUndefined();
    expect(keys.size).toBe(200_000);
  });

  it("holds each key in at most 16 bytes ÷ the lowest fill of a table that has grown, wherever the count falls", () => {
    // 100,000 keys is just past where a table doubling at 3/4 full had doubled again: 42 bytes a key.
    const keys = new InFileKeys(ENTITIES.sessions);
    for (let row = 0; row < 100_000; row++) keys.claim({ sessionId: `s${row}` }, row);
    expect(keys.bytes / keys.size).toBeLessThanOrEqual(16 / (0.9 / 1.25) + 0.5);
  });

  it("finds every repeat, with the row that first used the key, after the table has grown", () => {
    const keys = new InFileKeys(ENTITIES.sessions);
    for (let row = 0; row < 50_000; row++) keys.claim({ sessionId: `s${row}` }, row + 2);
    for (let i = 0; i < 50_000; i += 997) expect(keys.claim({ sessionId: `s${i}` }, 60_000 + i)).toEqual({ field: "sessionId", firstRow: i + 2 });
    expect(keys.size).toBe(50_000);
  });

  it("checks the natural key and each unique field in its own key space, and a rejected row claims neither", () => {
    const keys = new InFileKeys(ENTITIES.users);
    expect(keys.claim(user(1), 2)).toBeUndefined();
    // The same text as a username and as an email is not a repeat: different key spaces.
    expect(keys.claim({ email: "user9@example.org", username: "user1@example.org" }, 3)).toBeUndefined();
    expect(keys.claim(user(2, "user1"), 4)).toEqual({ field: "username", firstRow: 2 });
    // Row 4 was refused, so its email is still free.
    expect(keys.claim(user(2), 5)).toBeUndefined();
    expect(keys.claim(user(1, "other"), 6)).toEqual({ field: "email", firstRow: 2 });
    expect(keys.size).toBe(6);
  });

  it("tells compound keys apart by every part", () => {
    const keys = new InFileKeys(ENTITIES.enrollments);
    expect(keys.claim({ userId: "a", courseId: "bc" }, 1)).toBeUndefined();
    expect(keys.claim({ userId: "ab", courseId: "c" }, 2)).toBeUndefined();
    expect(keys.claim({ userId: "a", courseId: "bc" }, 3)).toEqual({ field: "userId,courseId", firstRow: 1 });
  });

  it("refuses a row number it cannot hold instead of recording a wrong one", () => {
    const keys = new InFileKeys(ENTITIES.sessions);
    expect(() => keys.claim({ sessionId: "s1" }, 2 ** 32)).toThrow(/beyond what the in-file duplicate check can number/);
    expect(() => keys.claim({ sessionId: "s1" }, -1)).toThrow(RangeError);
    expect(keys.claim({ sessionId: "s1" }, 0)).toBeUndefined();
  });
});
