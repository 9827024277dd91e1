/**
 * Binary callers of the two methods that carry every record of a transfer,
 * served by handlers of their own, without protobuf-es walking each record
 * by reflection:
 *
 * - WriteRecords requests are read with their records straight to plain
 *   records (shared/records-wire/records-read.ts): an import's every record
 *   arrives this way, and protobuf-es's reflective parse of each was a large
 *   piece of the records service's own work on an import.
 * - StreamRecords responses are written with each record already encoded
 *   (shared/records-wire/records-as-bytes.ts, `streamEncodedRecords`): an
 *   export's every record leaves this way.
 *
 * Connect reads and writes a method's messages with its descriptor, the same
 * one for the binary and the JSON flavour of a protocol, and both shortcuts
 * need the binary wire. So each method gets two handlers behind one path — the
 * one `router.service` registered, for JSON callers (and anything else it
 * answers), and one for a descriptor of the same wire, for binary callers —
 * with the same interceptors and the same service behind them.
 */
import type { DescMethodStreaming } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { RecordsService as RecordsServiceDesc, type StreamRecordsRequest, type WriteRecordsRequest } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { STREAM_RECORDS_ENCODED } from "../../shared/records-wire/records-as-bytes.js";
import { readRecords, WRITE_RECORDS_UNREAD } from "../../shared/records-wire/records-read.js";
import { servesBinary } from "../../shared/rpc/serves-binary.js";
import type { RecordsService } from "../records-service.js";

/** To be called after `router.service(RecordsService, service)`, which registered the methods' handlers. */
export function serveBinaryCallersFast(router: ConnectRouter, service: RecordsService): void {
  serveBinaryCallers(router, RecordsServiceDesc.method.writeRecords, WRITE_RECORDS_UNREAD, (requests: AsyncIterable<WriteRecordsRequest>, context: HandlerContext) =>
    service.writeRecords(readEach(requests), context),
  );
  serveBinaryCallers(router, RecordsServiceDesc.method.streamRecords, STREAM_RECORDS_ENCODED, (request: StreamRecordsRequest, context: HandlerContext) =>
    service.streamEncodedRecords(request, context),
  );
}

/** Binary callers of `method` to `implementation` under `binaryMethod`'s descriptor; everyone else as before. */
function serveBinaryCallers(router: ConnectRouter, method: DescMethodStreaming, binaryMethod: DescMethodStreaming, implementation: (input: never, context: HandlerContext) => unknown): void {
  const index = router.handlers.findIndex((h) => h.method === method);
  if (index < 0) throw new Error(`register the records service before its binary callers' ${method.name}`);
  const reflective = router.handlers[index]!;
  router.rpc(binaryMethod, implementation as never);
  const binary = router.handlers.pop()!;
  const either: UniversalHandler = Object.assign((request: Parameters<UniversalHandler>[0]) => (servesBinary({ requestHeader: request.header }) ? binary(request) : reflective(request)), reflective);
  router.handlers[index] = either;
}

async function* readEach(requests: AsyncIterable<WriteRecordsRequest>): AsyncIterable<WriteRecordsRequest> {
  for await (const request of requests) yield readRecords(request);
}
