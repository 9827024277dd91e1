/**
 * The transfer service behind a real server on port 0, called the ways its
 * users call it: a plain @grpc/grpc-js client (internal services) and Connect
 * clients (backends, browsers), including ListFormats, DescribeEntity and the
 * error statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { Entity, FieldType, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportRequestSchema, ImportHeaderSchema, JobState, TransferService, type ExportResponse, type ImportResponse } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { createGrpcJsClient } from "../../support/grpc-js-client.js";
import { exportFile, importFile, seed, startServices, user, type Services } from "./harness.js";

let s: Services;

beforeAll(async () => {
  s = await startServices();
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 40 }, (_, i) => user(i)),
  );
});
afterAll(async () => s?.close());

describe("a plain @grpc/grpc-js client", () => {
  it("exports a file as a server stream and imports it back over the bidi stream", async () => {
    const client = createGrpcJsClient(TransferService, s.transfer.url);
    try {
      const events: ExportResponse[] = [];
      for await (const r of client.export(create(ExportRequestSchema, { entity: Entity.USERS, format: "ndjson", fields: ["email", "username", "firstName"] }))) events.push(r);
      expect(events[0]!.event.case).toBe("header");
      expect(events.at(-1)!.event.case).toBe("summary");
      const file = Buffer.concat(events.flatMap((e) => (e.event.case === "chunk" ? [e.event.value] : [])));
      expect(file.toString("utf8").trim().split("\n")).toHaveLength(40);

      // Change every first name, then send the file back in upsert... merge mode.
      const edited = Buffer.from(file.toString("utf8").replaceAll('"firstName":"Ada"', '"firstName":"Grace"'), "utf8");
      const call = client.import();
      await call.write({ message: { case: "header", value: create(ImportHeaderSchema, { entity: Entity.USERS, format: "ndjson", mode: WriteMode.MERGE }) } });
      for (let i = 0; i < edited.length; i += 100) await call.write({ message: { case: "chunk", value: edited.subarray(i, i + 100) } });
      call.end();
      const responses: ImportResponse[] = [];
      for await (const r of call) responses.push(r);
      expect(responses[0]!.event.case).toBe("started");
      const summary = responses.at(-1)!.event;
      expect(summary.case).toBe("summary");
      expect(summary.value).toMatchObject({ read: 40n, updated: 40n, failed: 0n, state: JobState.SUCCEEDED });

      const job = await client.getJob({ jobId: (responses[0]!.event.value as { jobId: string }).jobId });
      expect(job.job).toMatchObject({ state: JobState.SUCCEEDED, subject: "anonymous", format: "ndjson", mode: WriteMode.MERGE });
      const after = await exportFile(s.client, { entity: Entity.USERS, format: "json", fields: ["firstName"] });
      expect(new Set((JSON.parse(after.bytes.toString("utf8")) as { firstName: string }[]).map((u) => u.firstName))).toEqual(new Set(["Grace"]));
    } finally {
      client.close();
    }
  });

  it("gets NOT_FOUND for an unknown format and INVALID_ARGUMENT for bad options", async () => {
    const client = createGrpcJsClient(TransferService, s.transfer.url);
    try {
      const drain = async (request: Parameters<typeof client.export>[0]) => {
        try {
          for await (const _ of client.export(request)) {
            // drain
          }
        } catch (error) {
          // connect-node percent-encodes ; : , in grpc-message and grpc-js's decodeURI leaves them encoded.
          const e = error as { code: number; details: string };
          return { code: e.code, details: decodeURIComponent(e.details) };
        }
        throw new Error("expected an error");
      };
      expect(await drain({ entity: Entity.USERS, format: "xlsx-nope" })).toMatchObject({
        code: GrpcStatus.NOT_FOUND,
        details: expect.stringContaining("available formats: csv, html, json, markdown, ndjson, ods, xlsx"),
      });
      expect(await drain({ entity: Entity.USERS, format: "csv", formatOptions: { delimiter: ";;" } })).toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringContaining("delimiter"),
      });
      expect(await drain({ entity: Entity.USERS, format: "csv", fields: ["nope"] })).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringContaining("nope") });
      expect(await drain({ entity: Entity.UNSPECIFIED, format: "csv" })).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
    } finally {
      client.close();
    }
  });
});

describe("a Connect client", () => {
  it("lists the formats with their capabilities and options as JSON Schema", async () => {
    const { formats, failures } = await s.connectJson.listFormats({});
    expect(formats.map((f) => f.name)).toEqual(expect.arrayContaining(["csv", "json", "ndjson"]));
    expect(failures).toEqual([]);
    const csv = formats.find((f) => f.name === "csv")!;
    expect(csv).toMatchObject({ mimeType: "text/csv", canRead: true, canWrite: true, shape: "tabular", audience: "human", extensions: expect.arrayContaining(["csv"]) });
    const schema = JSON.parse(csv.optionsJsonSchema) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["delimiter", "header", "formulaEscape"]));
  });

  it("describes an entity through the records service", async () => {
    const { description } = await s.connectBinary.describeEntity({ entity: Entity.SESSIONS });
    expect(description?.name).toBe("sessions");
    expect(description?.keyFields).toEqual(["sessionId"]);
    expect(description?.fields.find((f) => f.key === "startedAt")?.type).toBe(FieldType.TIMESTAMP);
  });

  it("gets an import's row errors as they happen, with row, line, column, value and reason", async () => {
    const csv = "email,username,role\r\nok1@example.org,ok1,student\r\nnot-an-email,bad1,student\r\nok2@example.org,ok2,wizard\r\n";
    const result = await importFile(s.client, { entity: Entity.USERS, format: "csv" }, csv, { chunkSize: 7 });
    expect(result.summary).toMatchObject({ read: 3n, inserted: 1n, failed: 2n, state: JobState.SUCCEEDED });
    expect(result.rowErrors.map((e) => ({ row: e.row, line: e.line, column: e.column, value: e.value, code: e.code }))).toEqual([
      { row: 2n, line: 3n, column: "email", value: "not-an-email", code: "invalid" },
      { row: 3n, line: 4n, column: "role", value: "wizard", code: "invalid" },
    ]);
    expect(result.rowErrors[0]!.reason).toMatch(/email/);
    // Row errors are streamed before the summary.
    expect(result.events.findIndex((e) => e.event.case === "summary")).toBe(result.events.length - 1);
  });

  it("refuses an import whose first message is not the header", async () => {
    const requests = (async function* () {
      yield { message: { case: "chunk" as const, value: new Uint8Array([1, 2, 3]) } };
    })();
    const error = await (async () => {
      for await (const _ of s.client.import(requests)) {
        // nothing
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toContain("header");
  });

  it("refuses an export or an import whose request carries a field this schema does not declare (a newer client's option), before a job starts", async () => {
    const undeclared = [{ no: 42, wireType: WireType.Varint, data: new BinaryWriter().int32(1).finish() }];
    const exportRequest = create(ExportRequestSchema, { entity: Entity.USERS, format: "csv" });
    (exportRequest as { $unknown?: unknown }).$unknown = undeclared;
    const jobsBefore = await s.transferDb.db.collection("jobs").countDocuments();
    const exported = (async () => {
      for await (const _ of s.connectBinary.export(exportRequest)) {
        // nothing
      }
    })();
    await expect(exported).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage:
        "the request carries field number 42 of dataexchange.transfer.v1.ExportRequest, which this service's protos do not declare (a client built from a newer schema?); refused rather than ignored",
    });
    const header = create(ImportHeaderSchema, { entity: Entity.USERS, format: "csv", mode: WriteMode.INSERT });
    (header as { $unknown?: unknown }).$unknown = undeclared;
    const imported = (async () => {
      for await (const _ of s.client.import(
        (async function* () {
          yield { message: { case: "header" as const, value: header } };
          yield { message: { case: "chunk" as const, value: new TextEncoder().encode("email,username\r\nnewer@example.org,newer\r\n") } };
        })(),
      )) {
        // nothing
      }
    })();
    await expect(imported).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("field number 42 of dataexchange.transfer.v1.ImportHeader (at header)") });
    expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(jobsBefore);
    await expect(s.recordsClient.getRecord({ entity: Entity.USERS, key: { parts: ["newer@example.org"] } })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("maps mappings and transforms from the header onto the file's columns", async () => {
    const csv = "Mail;Login;Joined\n  MIXED@Example.ORG ;mixed1;31/12/2023\n";
    const result = await importFile(
      s.connectJson,
      {
        entity: Entity.USERS,
        format: "csv",
        formatOptions: { delimiter: ";" },
        mappings: [
          { source: "Mail", field: "email", transforms: [{ kind: { case: "trim", value: {} } }, { kind: { case: "lowercase", value: {} } }] },
          { source: "Login", field: "username" },
          { source: "Joined", field: "createdAt", transforms: [{ kind: { case: "date", value: { format: "DD/MM/YYYY" } } }] },
          // No column: the value comes from the default.
          { source: "", field: "role", transforms: [{ kind: { case: "default", value: { value: "teacher" } } }] },
        ],
      },
      csv,
    );
    expect(result.rowErrors).toEqual([]);
    expect(result.summary).toMatchObject({ inserted: 1n });
    const stored = await s.recordsClient.getRecord({ entity: Entity.USERS, key: { parts: ["mixed@example.org"] } });
    expect(stored.record?.kind.value).toMatchObject({ username: "mixed1", role: "teacher" });
  });
});
