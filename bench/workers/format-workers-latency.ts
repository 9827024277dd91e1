/**
 * Unary-call latency while a heavy export runs: one client exports N
 * sessions from the transfer service (whose records service is the
 * synthetic one, so the transfer service and its format plugin are the busy
 * party) while, on a connection of its own, it calls Health.Check and
 * ListFormats back to back, a pause of `probeEveryMs` between calls, and
 * records how long each took. Probes before the export give the idle
 * figure. The transfer service runs its plugins in-thread or in workers,
 * as the orchestrator started it.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { setTimeout as sleep } from "node:timers/promises";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  url: string;
  token?: string;
  format: string;
  formatOptions?: JsonObject;
  probeEveryMs: number;
  idleProbes: number;
}

export interface LatencyProbes {
  health: number[];
  listFormats: number[];
}

runAsWorker<Args>(async ({ url, token, format, formatOptions, probeEveryMs, idleProbes }) => {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  // Separate transports: the probes do not share the export's HTTP/2 connection.
  const probeTransport = createGrpcTransport({ baseUrl: url });
  const health = createClient(Health, probeTransport);
  const transfer = createClient(TransferService, probeTransport);
  const exporter = createClient(TransferService, createGrpcTransport({ baseUrl: url }));

  async function probeOnce(into: LatencyProbes): Promise<void> {
    let t0 = performance.now();
    await health.check({ service: "dataexchange.transfer.v1.TransferService" });
    into.health.push(performance.now() - t0);
    t0 = performance.now();
    await transfer.listFormats({}, { headers });
    into.listFormats.push(performance.now() - t0);
  }

  const idle: LatencyProbes = { health: [], listFormats: [] };
  for (let i = 0; i < idleProbes; i++) {
    await probeOnce(idle);
    await sleep(probeEveryMs);
  }

  const busy: LatencyProbes = { health: [], listFormats: [] };
  let exporting = true;
  let firstChunk: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstChunk = resolve));
  const probing = (async () => {
    await started; // measure while bytes flow, not while the job starts
    while (exporting) {
      await probeOnce(busy);
      await sleep(probeEveryMs);
    }
  })();

  const t0 = performance.now();
  let bytes = 0;
  let records = 0;
  try {
    for await (const response of exporter.export({ entity: Entity.SESSIONS, format, formatOptions, fields: SESSION_COLUMNS.map((c) => c.key) }, { headers })) {
      const event = response.event;
      if (event.case === "chunk") {
        bytes += event.value.byteLength;
        firstChunk();
      } else if (event.case === "summary") {
        records = Number(event.value.records);
      }
    }
  } finally {
    exporting = false;
    firstChunk();
  }
  const ms = performance.now() - t0;
  await probing;
  if (busy.health.length === 0) throw new Error("no probe ran during the export");
  return { records, bytes, ms, extra: { idle, busy } };
});
