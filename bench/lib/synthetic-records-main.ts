/**
 * A stand-in for the records service that serves `StreamRecords` with
 * SYNTHETIC_RECORDS generated sessions (and `CountRecords` with that count)
 * as fast as its caller takes them, from a few pre-encoded gRPC frames, over
 * plain node:http2. No database and almost no CPU of its own, so that in the
 * format-worker rows the transfer service, and its format plugin, is the busy
 * party. Every other method answers UNIMPLEMENTED.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import http2 from "node:http2";
import { CountRecordsResponseSchema, StreamRecordsResponseSchema } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES } from "../../services/domain/index.js";
import { encodeRecord } from "../../services/shared/records-wire/record-codec.js";
import { session } from "./data.js";

const total = Number(process.env.SYNTHETIC_RECORDS ?? 100_000);
/** Records per StreamRecords message, as the transfer service asks for (export-job.ts). */
const BATCH = 500;
const DISTINCT = 20;

/** A gRPC length-prefixed message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** A session as the records service sends it. */
const sessionRecord = (n: number) => encodeRecord(ENTITIES.sessions, session(n), "response");

const batches = Array.from({ length: DISTINCT }, (_, b) =>
  frame(toBinary(StreamRecordsResponseSchema, create(StreamRecordsResponseSchema, { records: Array.from({ length: BATCH }, (_, i) => sessionRecord(b * BATCH + i)) }))),
);
const lastSize = total % BATCH;
const last = lastSize > 0 ? frame(toBinary(StreamRecordsResponseSchema, create(StreamRecordsResponseSchema, { records: Array.from({ length: lastSize }, (_, i) => sessionRecord(i)) }))) : undefined;
const count = frame(toBinary(CountRecordsResponseSchema, create(CountRecordsResponseSchema, { count: BigInt(total) })));

function answer(stream: http2.ServerHttp2Stream, status: number, frames: () => Generator<Buffer>): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(status) }));
  const source = frames();
  const pump = () => {
    for (let next = source.next(); !next.done; next = source.next()) {
      if (stream.destroyed) return;
      if (!stream.write(next.value)) return void stream.once("drain", pump);
    }
    stream.end();
  };
  pump();
}

const server = http2.createServer();
const sessions = new Set<http2.ServerHttp2Session>();
server.on("session", (session) => {
  sessions.add(session);
  session.on("close", () => sessions.delete(session));
});
server.on("stream", (stream, headers) => {
  stream.on("data", () => undefined); // the request is not needed
  stream.on("error", () => undefined); // a caller that goes away
  const path = String(headers[":path"]);
  if (path.endsWith("/StreamRecords")) {
    answer(stream, 0, function* () {
      for (let sent = 0; sent + BATCH <= total; sent += BATCH) yield batches[(sent / BATCH) % DISTINCT]!;
      if (last) yield last;
    });
  } else if (path.endsWith("/CountRecords")) {
    answer(stream, 0, function* () {
      yield count;
    });
  } else {
    answer(stream, 12, function* () {});
  }
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`synthetic records service listening on http://127.0.0.1:${address.port} (${total} sessions)\n`);
});
const stop = () => {
  for (const session of sessions) session.destroy();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
