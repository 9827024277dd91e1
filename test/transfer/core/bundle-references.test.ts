/**
 * The bundle's own keys while it is validated: a dry run's missing
 * reference to a row an earlier part of the bundle passed is no error; one
 * to a row the bundle does not hold (or that failed) still is; real writes
 * pass through untouched. The writer underneath is a scripted stand-in for
 * the records service's answers (the integration tests use the real one).
 */
import { describe, expect, it } from "vitest";
import { ENTITIES } from "../../../services/domain/index.js";
import { BundleKeys, bundleAwareWriter } from "../../../services/transfer/core/bundle-references.js";
import type { RecordWriter, WriteError, WriteResult } from "../../../services/transfer/core/import-pipeline.js";

/** Answers every batch with the errors `errorsFor` gives each record, counting the others as inserted. */
function scripted(errorsFor: (record: Record<string, unknown>, index: number) => Omit<WriteError, "index">[]): RecordWriter {
  return {
    async write(records): Promise<WriteResult> {
      const errors = records.flatMap((r, index) => errorsFor(r, index).map((e) => ({ ...e, index })));
      const failed = new Set(errors.map((e) => e.index)).size;
      return { inserted: records.length - failed, updated: 0, unchanged: 0, skipped: 0, errors };
    },
  };
}

const missingUser = (r: Record<string, unknown>) => (r.userId === "stored" ? [] : [{ field: "userId", reason: `no user with username "${r.userId}"`, code: "missing_reference" }]);
const dry = { mode: "insert" as const, dryRun: true };

describe("a bundle's own keys", () => {
  it("let an enrollment name a user an earlier part passed, and keep the error of one it does not hold", async () => {
    const keys = new BundleKeys([ENTITIES.users, ENTITIES.enrollments]);
    await bundleAwareWriter(
      scripted(() => []),
      ENTITIES.users,
      keys,
    ).write([{ email: "a@example.org", username: "ann" }], dry);
    const result = await bundleAwareWriter(scripted(missingUser), ENTITIES.enrollments, keys).write(
      [
        { userId: "ann", courseId: "C1" },
        { userId: "nobody", courseId: "C1" },
        { userId: "stored", courseId: "C1" },
      ],
      dry,
    );
    expect(result.errors).toEqual([{ index: 1, field: "userId", reason: 'no user with username "nobody"', code: "missing_reference" }]);
    expect(result.inserted).toBe(2);
  });

  it("do not hold a user whose row the records service rejected", async () => {
    const keys = new BundleKeys([ENTITIES.users, ENTITIES.enrollments]);
    const users = scripted((r) => (r.username === "bad" ? [{ field: "email", reason: "taken", code: "duplicate_key" }] : []));
    await bundleAwareWriter(users, ENTITIES.users, keys).write(
      [
        { email: "x@example.org", username: "bad" },
        { email: "y@example.org", username: "good" },
      ],
      dry,
    );
    expect(keys.has("users", "username", "good")).toBe(true);
    expect(keys.has("users", "username", "bad")).toBe(false);
  });

  it("keep a reference error the bundle cannot answer beside one it can", async () => {
    const keys = new BundleKeys([ENTITIES.users, ENTITIES.sessions]);
    await bundleAwareWriter(
      scripted(() => []),
      ENTITIES.users,
      keys,
    ).write([{ email: "a@example.org", username: "ann" }], dry);
    const both = scripted(() => [
      { field: "userId", reason: "no user", code: "missing_reference" },
      { field: "courseId", reason: "no course", code: "missing_reference" },
    ]);
    const result = await bundleAwareWriter(both, ENTITIES.sessions, keys).write([{ sessionId: "s1", userId: "ann", courseId: "NOPE" }], dry);
    expect(result.errors.map((e) => e.field)).toEqual(["courseId"]);
    expect(result.inserted).toBe(0);
  });

  it("leave real writes as the records service answered them", async () => {
    const keys = new BundleKeys([ENTITIES.users, ENTITIES.enrollments]);
    await bundleAwareWriter(
      scripted(() => []),
      ENTITIES.users,
      keys,
    ).write([{ email: "a@example.org", username: "ann" }], dry);
    const result = await bundleAwareWriter(scripted(missingUser), ENTITIES.enrollments, keys).write([{ userId: "ann", courseId: "C1" }], { mode: "insert", dryRun: false });
    expect(result.errors).toHaveLength(1);
  });
});
