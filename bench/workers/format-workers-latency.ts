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
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { nodeArgs, REPO } from "../lib/processes.js";
import { runAsWorker } from "../lib/worker.js";
import type { LatencyProbes, UnaryProberArgs } from "./unary-prober.js";

export type { LatencyProbes } from "./unary-prober.js";

interface Args extends UnaryProberArgs {
  format: string;
  formatOptions?: JsonObject;
}

runAsWorker<Args>(async ({ url, token, format, formatOptions, probeEveryMs, idleProbes }) => {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const prober = spawn(process.execPath, nodeArgs("bench/workers/unary-prober.ts"), {
    cwd: REPO,
    env: { ...process.env, BENCH_ARGS: JSON.stringify({ url, token, probeEveryMs, idleProbes } satisfies UnaryProberArgs) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => prober.once("exit", resolve));
  const lines = createInterface({ input: prober.stdout! })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<Record<string, unknown>> => {
    const next = await lines.next();
    if (next.done) throw new Error(`the prober ended early (exit ${await exited})`);
    return JSON.parse(next.value) as Record<string, unknown>;
  };
  try {
    await nextLine(); // {"idle":"done"}
    const exporter = createClient(TransferService, createGrpcTransport({ baseUrl: url }));
    let probing = false;
    const t0 = performance.now();
    let bytes = 0;
    let records = 0;
    try {
      for await (const response of exporter.export({ entity: Entity.SESSIONS, format, formatOptions, fields: SESSION_COLUMNS.map((c) => c.key) }, { headers })) {
        const event = response.event;
        if (event.case === "chunk") {
          bytes += event.value.byteLength;
          // Measure while bytes flow, not while the job starts.
          if (!probing) prober.stdin!.write("start\n");
          probing = true;
        } else if (event.case === "summary") {
          records = Number(event.value.records);
        }
      }
    } finally {
      prober.stdin!.write("stop\n");
    }
    const ms = performance.now() - t0;
    const { idle, busy } = (await nextLine()) as unknown as { idle: LatencyProbes; busy: LatencyProbes };
    if (busy.health.length === 0) throw new Error("no probe ran during the export");
    return { records, bytes, ms, extra: { idle, busy } };
  } finally {
    prober.kill();
  }
});
