/**
 * An error whose message would be tens of kilobytes (500 long unknown column
 * names, a 30 KB field name quoted back) still reaches a gRPC caller with its
 * own status: the message and details are cut to fit HTTP/2 trailers, and
 * say so. Before, such a call ended `INTERNAL: Stream closed with error code
 * NGHTTP2_FRAME_SIZE_ERROR`, which no client can act on. Both services, both
 * kinds of gRPC client (Connect and @grpc/grpc-js), and the Connect protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { Entity, FieldViolationsSchema, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ExportRequestSchema, ImportHeaderSchema, TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { clipMessage, MAX_DETAILS_BYTES, MAX_MESSAGE_BYTES } from "../../services/shared/rpc/bounded-error.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { exportFile, importFile, startServices, type Services } from "../transfer/rpc/harness.js";

let s: Services;
beforeAll(async () => {
  s = await startServices();
});
afterAll(async () => s?.close());

const columns = Array.from({ length: 500 }, (_, i) => `unknown_column_with_a_rather_long_name_number_${i}_${"x".repeat(24)}`);
const wideCsv = `email,username,${columns.join(",")}\nwide@example.org,wide,${columns.map(() => "1").join(",")}\n`;

/** What grpc-message carries for `text`: printable ASCII as is, the rest percent-encoded. */
const wireLength = (text: string) => Buffer.from(text, "utf8").reduce((n, b) => n + (b >= 0x20 && b <= 0x7e && b !== 0x25 ? 1 : 3), 0);

function expectBounded(error: ConnectError): void {
  expect(error.code).toBe(Code.InvalidArgument);
  expect(wireLength(error.rawMessage)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  expect(error.rawMessage).toMatch(/… \[\d+ more characters cut\]$/);
  const size = error.details.reduce((n, d) => n + ("value" in d && d.value instanceof Uint8Array ? d.value.byteLength : 0), 0);
  expect(size).toBeLessThanOrEqual(MAX_DETAILS_BYTES);
}

/** The grpc-js status code a stream ends with (-1: it ended without an error). */
async function grpcJsCode(stream: AsyncIterable<unknown>): Promise<number> {
  try {
    for await (const _ of stream);
  } catch (error) {
    return (error as ServiceError).code;
  }
  return -1;
}

async function failure(run: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await run();
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("the call succeeded");
}

describe("the transfer service", () => {
  it("answers INVALID_ARGUMENT to an import with 500 long unknown columns, over gRPC and the Connect protocol", async () => {
    for (const client of [s.client, s.connectJson, s.connectBinary]) {
      const error = await failure(() => importFile(client, { entity: Entity.USERS, format: "csv" }, wideCsv));
      expectBounded(error);
      expect(error.rawMessage).toContain("unknown_column_with_a_rather_long_name_number_0_");
    }
    const job = await s.transferDb.db.collection("jobs").find({ kind: "import" }).sort({ createdAt: -1 }).limit(1).next();
    expect(job).toMatchObject({ state: "failed", errorCode: "invalid_argument", error: expect.stringContaining("unknown_column_with_a_rather_long_name_number_0_") });
  });

  it("answers INVALID_ARGUMENT to an export naming 500 unknown fields, with the violations that fit and a count of the rest", async () => {
    const error = await failure(() => exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: columns }));
    expectBounded(error);
    const [violations] = error.findDetails(FieldViolationsSchema);
    expect(violations!.violations.length).toBeGreaterThan(5);
    expect(violations!.violations[0]).toMatchObject({ field: "fields[0]", reason: expect.stringContaining("number_0_") });
    expect(violations!.violations.at(-1)).toMatchObject({ code: "truncated", reason: expect.stringMatching(/^… and \d+ more/) });
  });

  it("reaches a plain @grpc/grpc-js client as INVALID_ARGUMENT too", async () => {
    const client = createGrpcJsClient(TransferService, s.transfer.url);
    try {
      expect(await grpcJsCode(client.export(create(ExportRequestSchema, { entity: Entity.USERS, format: "csv", fields: columns })))).toBe(GrpcStatus.INVALID_ARGUMENT);
      const call = client.import();
      const importCode = grpcJsCode(call);
      await call.write({ message: { case: "header", value: create(ImportHeaderSchema, { entity: Entity.USERS, format: "csv" }) } });
      await call.write({ message: { case: "chunk", value: Buffer.from(wideCsv) } });
      call.end();
      expect(await importCode).toBe(GrpcStatus.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
  });
});

describe("the records service", () => {
  it("answers INVALID_ARGUMENT to a read naming a 30 KB field, in ASCII or not", async () => {
    for (const field of ["x".repeat(30_000), "é".repeat(6_000)]) {
      const error = await failure(async () => {
        for await (const _ of s.recordsClient.streamRecords({ entity: Entity.USERS, fields: [field] }));
      });
      expectBounded(error);
    }
    const client = createGrpcJsClient(RecordsService, s.records.url);
    try {
      expect(await grpcJsCode(client.streamRecords({ entity: Entity.USERS, fields: ["y".repeat(30_000)] }))).toBe(GrpcStatus.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
  });
});

describe("clipMessage", () => {
  it("keeps a short message as it is and cuts a long one at a character boundary within the limit", () => {
    expect(clipMessage("short")).toBe("short");
    const emoji = "😀".repeat(1000); // 4 UTF-8 bytes, 12 on the wire, each
    const cut = clipMessage(emoji);
    expect(wireLength(cut)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(cut.replace(/… \[\d+ more characters cut\]$/, "")).toMatch(/^(😀)+$/u);
    expect(cut).toMatch(/\[(\d+) more characters cut\]$/);
  });
});
