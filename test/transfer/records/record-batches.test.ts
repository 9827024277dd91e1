/**
 * An export's record batches: every record the records service sends is in
 * them, and one the codec cannot read ends the export instead of leaving the
 * file a record short. The records service's answers are stood in for by
 * their messages (this is the codec's tier; the stream over a real records
 * service is every export test's).
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Entity, StreamRecordsResponseSchema, type EntityRecord } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES } from "../../../services/domain/index.js";
import type { RecordsClient } from "../../../services/transfer/records/records-client.js";
import { recordBatches } from "../../../services/transfer/records/record-batches.js";

/** A records client whose StreamRecords answers with these batches of wire records. */
function answering(batches: EntityRecord[][]): RecordsClient {
  return {
    async *streamRecords() {
      for (const records of batches) yield create(StreamRecordsResponseSchema, { records });
    },
  } as unknown as RecordsClient;
}

const course = (code: string) => ({ kind: { case: "course", value: { code, title: `Course ${code}` } } }) as EntityRecord;

async function collect(client: RecordsClient): Promise<Record<string, unknown>[][]> {
  const out: Record<string, unknown>[][] = [];
  for await (const batch of recordBatches(client, ENTITIES.courses, { entity: Entity.COURSES }, 2, new AbortController().signal)) out.push(batch);
  return out;
}

describe("recordBatches", () => {
  it("yields each message's records as one batch of plain records", async () => {
    const batches = await collect(answering([[course("A"), course("B")], [course("C")]]));
    expect(batches.map((b) => b.map((r) => r.code))).toEqual([["A", "B"], ["C"]]);
  });

  it("ends with an internal error, naming why, at a record of another entity or an empty one", async () => {
    const user = { kind: { case: "user", value: { email: "a@example.org" } } } as EntityRecord;
    for (const broken of [user, { kind: { case: undefined } } as EntityRecord]) {
      const error = await collect(answering([[course("A")], [course("B"), broken]])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect(error).toMatchObject({ code: Code.Internal });
      expect((error as ConnectError).rawMessage).toMatch(/^the records service sent a courses record this export cannot read: the record is/);
    }
  });
});
