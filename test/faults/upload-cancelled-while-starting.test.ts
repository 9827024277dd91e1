/**
 * An async upload (`POST /import?async=true`, what the web UI sends) whose
 * client goes away after the whole file was sent, while the service is
 * creating the job's record: the job is the connection's until its 202 is
 * written, so it ends cancelled before a row is written — never an import
 * running that the client, told nothing, believes cancelled. The moment is
 * made, not hoped for: FerretDB is stopped (SIGSTOP) so the job's record
 * waits, the test sees bytes queued at FerretDB's socket, closes the
 * connection, sees the service's end of it closed, and only then lets
 * FerretDB go on. The queued bytes may be a driver's heartbeat that came
 * first (one every 10 s per client); then the client was gone before the job
 * was to start, and no job starts, which the service logs. Either way nothing
 * is written and no job runs on. Real processes: FerretDB, the records
 * service and the transfer service.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultStack, waitFor, type FaultStack } from "./support/fault-stack.js";
import { coursesCsv, coursesWithPrefix } from "./support/transfer-calls.js";

/** TCP sockets of 127.0.0.1 (/proc/net/tcp): local and remote port, state, and bytes received but not yet read. */
function tcpSockets(): { local: number; remote: number; state: number; unread: number }[] {
  return readFileSync("/proc/net/tcp", "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => {
      const [, local, remote, state, queues] = line.trim().split(/\s+/);
      return {
        local: Number.parseInt(local!.split(":")[1]!, 16),
        remote: Number.parseInt(remote!.split(":")[1]!, 16),
        state: Number.parseInt(state!, 16),
        unread: Number.parseInt(queues!.split(":")[1]!, 16),
      };
    });
}

/** Bytes sent to a server on `port` that it has not read: a stopped FerretDB's waiting commands. */
const unreadAt = (port: number) =>
  tcpSockets()
    .filter((s) => s.local === port)
    .reduce((sum, s) => sum + s.unread, 0);
const ESTABLISHED = 0x01;

describe("an async upload whose client goes away while its job is being created", () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await startFaultStack();
  });
  afterAll(async () => {
    if (stack?.database.server) process.kill(stack.database.server.pid, "SIGCONT");
    await stack?.close();
  });

  it("ends the job cancelled with nothing written (or starts none), and no answer is owed", async () => {
    const requestId = `gone-while-starting-${Date.now()}`;
    const form = new FormData();
    form.append("entity", "courses");
    form.append("mode", "insert");
    form.append("file", new Blob([coursesCsv(200, "GWS")]), "courses.csv");
    const body = new Response(form);
    const bytes = Buffer.from(await body.arrayBuffer());
    const transfer = new URL(stack.transfer.url);
    const head = [
      "POST /import?async=true HTTP/1.1",
      `Host: ${transfer.host}`,
      `Authorization: Bearer ${stack.tokens.transfer}`,
      `Content-Type: ${body.headers.get("content-type")}`,
      `Content-Length: ${bytes.byteLength}`,
      `X-Request-Id: ${requestId}`,
    ];
    const ferret = stack.database.server!;
    const quiet = unreadAt(ferret.port);
    process.kill(ferret.pid, "SIGSTOP");
    let answer = "";
    try {
      const socket = net.connect(Number(transfer.port), transfer.hostname);
      socket.on("data", (chunk: Buffer) => {
        answer += chunk.toString();
      });
      socket.on("error", () => undefined);
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      const clientPort = socket.localPort!;
      socket.write(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), bytes]));
      // The file is in and the job's record is on its way to the stopped database.
      await waitFor("the job record's insert waiting at FerretDB", () => (unreadAt(ferret.port) > quiet ? true : undefined), 30_000, 20);
      socket.destroy();
      await waitFor(
        "the service's end of the upload's connection to close",
        () => (tcpSockets().some((s) => s.local === Number(transfer.port) && s.remote === clientPort && s.state === ESTABLISHED) ? undefined : true),
        30_000,
        20,
      );
    } finally {
      process.kill(ferret.pid, "SIGCONT");
    }
    expect(answer).toBe("");
    const auth = { authorization: `Bearer ${stack.tokens.transfer}` };
    const listed = async () => {
      const res = await fetch(`${stack.transfer.url}/jobs?request_id=${requestId}`, { headers: auth });
      return ((await res.json()) as { jobs: { state: string; counts: Record<string, number>; error?: string }[] }).jobs;
    };
    const notStarted = () => stack.transfer.output().includes(`async import not started: the client went away before its job started; request id ${requestId}`);
    const outcome = await waitFor("the job to end, or the service to say it started none", async () => {
      const [job] = await listed();
      if (job && job.state !== "running") return { job };
      return notStarted() ? { job: undefined } : undefined;
    });
    if (outcome.job) {
      expect(outcome.job).toMatchObject({ state: "cancelled", error: "the client went away before the import finished" });
      expect(outcome.job.counts.inserted ?? 0).toBe(0);
    } else expect(await listed()).toEqual([]);
    expect(await stack.recordsDb.collection("courses").countDocuments(coursesWithPrefix("GWS"))).toBe(0);
  });
});
