/**
 * Unary-call latency while a heavy export runs: one client exports N
 * sessions from the transfer service (whose records service is the
 * synthetic one, so the transfer service and its format plugin are the busy
 * party) while a prober process of its own (unary-prober.ts) calls
 * Health.Check and ListFormats back to back, a pause of `probeEveryMs`
 * between calls, and records how long each took. Probes before the export
 * give the idle figure. The transfer service runs its plugins in-thread or
 * in workers, as the orchestrator started it.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";
import { startProber } from "./prober-process.js";
import type { UnaryProberArgs } from "./unary-prober.js";

export type { LatencyProbes } from "./unary-prober.js";

interface Args extends UnaryProberArgs {
  format: string;
  formatOptions?: JsonObject;
}

runAsWorker<Args>(async ({ url, token, format, formatOptions, probeEveryMs, idleProbes }) => {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const prober = await startProber({ url, token, probeEveryMs, idleProbes });
  try {
    const exporter = createClient(TransferService, createGrpcTransport({ baseUrl: url }));
    const t0 = performance.now();
    let bytes = 0;
    let records = 0;
    for await (const response of exporter.export({ entity: Entity.SESSIONS, format, formatOptions, fields: SESSION_COLUMNS.map((c) => c.key) }, { headers })) {
      const event = response.event;
      if (event.case === "chunk") {
        bytes += event.value.byteLength;
        // Measure while bytes flow, not while the job starts.
        prober.start();
      } else if (event.case === "summary") {
        records = Number(event.value.records);
      }
    }
    const ms = performance.now() - t0;
    const { idle, busy } = await prober.stop();
    if (busy.health.length === 0) throw new Error("no probe ran during the export");
    return { records, bytes, ms, extra: { idle, busy } };
  } finally {
    prober.kill();
  }
});
