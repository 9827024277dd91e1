/**
 * WriteRecords from binary callers read with their records straight to
 * plain records (shared/records-wire/records-read.ts): an import's every
 * record arrives this way, and protobuf-es's reflective parse of each was a
 * large piece of the records service's own work on an import.
 *
 * Connect parses a request with its method's descriptor, the same one for the
 * binary and the JSON flavour of a protocol, and that reading needs the
 * binary wire. So the method gets two handlers behind one path — the one
 * `router.service` registered, for JSON callers (and anything else it
 * answers), and one for the descriptor that leaves records unread, for
 * binary callers — with the same interceptors and the same implementation.
 */
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { RecordsService as RecordsServiceDesc, type WriteRecordsRequest } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { readRecords, WRITE_RECORDS_UNREAD } from "../../shared/records-wire/records-read.js";
import { servesBinary } from "../../shared/rpc/serves-binary.js";
import type { RecordsService } from "../records-service.js";

/** To be called after `router.service(RecordsService, service)`, which registered WriteRecords' handler. */
export function readWriteRecordsFast(router: ConnectRouter, service: RecordsService): void {
  const index = router.handlers.findIndex((h) => h.method === RecordsServiceDesc.method.writeRecords);
  if (index < 0) throw new Error("register the records service before its fast WriteRecords reading");
  const reflective = router.handlers[index]!;
  router.rpc(WRITE_RECORDS_UNREAD, ((requests: AsyncIterable<WriteRecordsRequest>, context: HandlerContext) => service.writeRecords(readEach(requests), context)) as never);
  const fast = router.handlers.pop()!;
  const either: UniversalHandler = Object.assign((request: Parameters<UniversalHandler>[0]) => (servesBinary({ requestHeader: request.header }) ? fast(request) : reflective(request)), reflective);
  router.handlers[index] = either;
}

async function* readEach(requests: AsyncIterable<WriteRecordsRequest>): AsyncIterable<WriteRecordsRequest> {
  for await (const request of requests) yield readRecords(request);
}
