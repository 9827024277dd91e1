/**
 * `changed_since` as a records filter: the user's filter narrowed by the
 * entity's change time, the user's own filter left as it was (the job
 * records it, and an export may be described again from the same request).
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { FilterSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES } from "../../../services/domain/index.js";
import { changedSinceFilter } from "../../../services/transfer/records/incremental-export.js";

describe("changedSinceFilter", () => {
  it("adds a range on the entity's change field and leaves the given filter unchanged", () => {
    const given = create(FilterSchema, { statuses: ["active"] });
    const since = new Date("2026-11-30T02:00:00Z");
    const narrowed = changedSinceFilter(ENTITIES.courses, given, since);
    expect(narrowed.statuses).toEqual(["active"]);
    expect(narrowed.timeRanges.map((r) => [r.field, timestampDate(r.from!).toISOString()])).toEqual([["updatedAt", "2026-11-30T02:00:00.000Z"]]);
    expect(given.timeRanges).toEqual([]);
  });

  it("filters the activity log by when entries were recorded", () => {
    expect(changedSinceFilter(ENTITIES.activity, undefined, new Date()).timeRanges.map((r) => r.field)).toEqual(["recordedAt"]);
  });
});
