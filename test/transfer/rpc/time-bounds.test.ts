/**
 * The transfer service's time bounds over RPC (an export's `changed_since`,
 * ListJobs' `created_from` / `created_to`, the audit filter's `from` / `to`)
 * arrive as google.protobuf.Timestamp, with nanoseconds; stored times are whole
 * milliseconds. A bound a millisecond holds is taken as it is; a finer one is
 * refused naming the request field and the whole millisecond that selects the
 * same records, never rounded (protobuf-es's `timestampDate` rounds, and a
 * rounded-down `from` selects records before it).
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { AuditEventFilterSchema } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportRequestSchema, ListJobsRequestSchema } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { auditQueryOf, InvalidAuditFilterError } from "../../../services/shared/audit/audit-codec.js";
import { exportRequestOf, jobQueryOf } from "../../../services/transfer/api/rpc/request-codec.js";

/** 2024-03-07T10:00:00Z plus `nanos`. */
function at(nanos: number): Timestamp {
  return { ...timestampFromDate(new Date("2024-03-07T10:00:00Z")), nanos };
}

describe("a time bound over RPC", () => {
  it("is taken as it is when a millisecond holds it", () => {
    expect(exportRequestOf(create(ExportRequestSchema, { entity: Entity.USERS, format: "csv", changedSince: at(5_000_000) })).changedSince?.toISOString()).toBe("2024-03-07T10:00:00.005Z");
    expect(jobQueryOf(create(ListJobsRequestSchema, { createdFrom: at(0), createdTo: at(999_000_000) }))).toMatchObject({
      createdFrom: new Date("2024-03-07T10:00:00.000Z"),
      createdTo: new Date("2024-03-07T10:00:00.999Z"),
    });
    expect(auditQueryOf(create(AuditEventFilterSchema, { from: at(1_000_000) })).from?.toISOString()).toBe("2024-03-07T10:00:00.001Z");
  });

  it("is refused when finer than a millisecond, naming the field and the millisecond that selects the same records", () => {
    expect(() => exportRequestOf(create(ExportRequestSchema, { entity: Entity.USERS, format: "csv", changedSince: at(500_000) }))).toThrow(
      "changed_since is more precise than milliseconds (500000 nanoseconds past the second), which is what a stored time keeps: give it in whole milliseconds (2024-03-07T10:00:00.001Z selects the same records)",
    );
    expect(() => jobQueryOf(create(ListJobsRequestSchema, { createdFrom: at(1) }))).toThrow(/^created_from is more precise than milliseconds/);
    expect(() => jobQueryOf(create(ListJobsRequestSchema, { createdTo: at(999_999_999) }))).toThrow(/created_to .*\(2024-03-07T10:00:01.000Z selects the same records\)/);
    const audit = () => auditQueryOf(create(AuditEventFilterSchema, { to: at(1_500_000) }));
    expect(audit).toThrow(InvalidAuditFilterError);
    expect(audit).toThrow(/^filter\.to is more precise than milliseconds .*\(2024-03-07T10:00:00.002Z selects the same records\)/);
  });
});
