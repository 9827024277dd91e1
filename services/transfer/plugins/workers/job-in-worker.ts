/**
 * One job as the worker runs it: the plugin's `read` or `write` over an input
 * fed by the job's port, its output sent back batch by batch within the
 * credits the main thread grants (protocol.ts).
 *
 * The worker never runs ahead of its consumer: it asks the plugin for the
 * next batch only while it holds a credit, and the plugin gets the next input
 * batch only when it asks for it (each one taken is acknowledged, which lets
 * the main thread send another). On `abort` the plugin's pending input pull
 * throws and its output iterator is closed, so its `finally` blocks run, and
 * the worker answers `closed`; a plugin that does not stop is the main
 * thread's to terminate.
 */
import type { MessagePort } from "node:worker_threads";
import type { FormatPlugin, ReadItem, Row } from "../../../../formats/_sdk/index.js";
import { serializeError } from "./error-codec.js";
import { PushQueue } from "../../../shared/streams/push-queue.js";
import { packReadItems } from "./read-items-codec.js";
import type { FromJob, JobSpec, JobValue, ToJob } from "./protocol.js";
import { asBuffer, transferable } from "./transferable-bytes.js";

/** Thrown into the plugin's input when the job is aborted: the plugin sees its input fail and unwinds. */
export class JobAbortedError extends Error {
  override name = "JobAbortedError";
  constructor() {
    super("the job was stopped by the transfer service");
  }
}

export async function runJobInWorker(
  port: MessagePort,
  spec: JobSpec,
  load: (ref: JobSpec["plugin"]) => Promise<FormatPlugin>,
  /** Called once the plugin is loaded, before it runs (the thread's priority is lowered then); the thread's nice value. */
  beforeRun: () => number | undefined = () => undefined,
): Promise<void> {
  const input = new PushQueue<JobValue>();
  let credit = spec.outputWindow;
  let wake: (() => void) | undefined;
  let aborted = false;
  let portClosed = false;
  const send = (message: FromJob, transfer?: ArrayBuffer[]) => {
    if (!portClosed) port.postMessage(message, transfer);
  };
  // Inputs the plugin took, acknowledged with the next output, or on their own after this turn.
  let acks = 0;
  let ackScheduled = false;
  const flushAcks = () => {
    ackScheduled = false;
    if (acks > 0) send({ type: "ack", n: acks });
    acks = 0;
  };
  const takeAcks = () => {
    const n = acks;
    acks = 0;
    return n > 0 ? n : undefined;
  };
  const stop = () => {
    aborted = true;
    input.interrupt(new JobAbortedError());
    wake?.();
  };
  port.on("message", (message: ToJob) => {
    if (message.type === "input") {
      input.push(message.value);
      if (message.credit) {
        credit += message.credit;
        wake?.();
      }
    } else if (message.type === "end") input.end();
    else if (message.type === "credit") {
      credit += message.n;
      wake?.();
    } else if (message.type === "abort") stop();
  });
  // The main thread closes the port when it is done with the job, whatever happened here.
  port.once("close", () => {
    portClosed = true;
    stop();
  });

  let plugin: FormatPlugin;
  try {
    plugin = await load(spec.plugin);
  } catch (error) {
    send({ type: "error", phase: "load", error: serializeError(error) });
    return;
  }
  if (aborted) return send({ type: "closed" });
  if (typeof plugin[spec.operation] !== "function") {
    send({ type: "error", phase: "load", error: serializeError(new Error(`the plugin has no ${spec.operation} function in a worker`)) });
    return;
  }
  const nice = beforeRun();
  send(nice === undefined ? { type: "started" } : { type: "started", nice });

  async function* inputs(): AsyncGenerator<JobValue> {
    while (true) {
      const next = await input.next();
      if (next.done) return;
      acks++;
      if (!ackScheduled) {
        ackScheduled = true;
        setImmediate(flushAcks);
      }
      yield spec.operation === "read" ? asBuffer(next.value as Uint8Array) : next.value;
    }
  }

  const output: AsyncIterable<JobValue> =
    spec.operation === "write"
      ? plugin.write!(inputs() as AsyncIterable<Row[]>, { columns: spec.columns, options: spec.options, useLabels: spec.useLabels, source: spec.source, parts: spec.parts })
      : plugin.read!(inputs() as AsyncIterable<Uint8Array>, { options: spec.options, columns: spec.columns, limits: spec.limits });
  const iterator = output[Symbol.asyncIterator]();
  try {
    while (true) {
      while (credit === 0 && !aborted) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (aborted) break;
      const next = await iterator.next();
      if (aborted) break;
      if (next.done) {
        send({ type: "done" });
        return;
      }
      credit--;
      if (spec.operation === "write") {
        if (!(next.value instanceof Uint8Array)) throw new TypeError(`write must yield Uint8Array chunks, not ${typeof next.value}`);
        const { bytes, transfer } = transferable(next.value, true);
        send({ type: "output", value: bytes, acks: takeAcks() }, transfer);
      } else {
        const { packed, transfer } = packReadItems(next.value as ReadItem[]);
        send({ type: "output", value: packed, acks: takeAcks() }, transfer);
      }
    }
  } catch (error) {
    if (!aborted) {
      // Sending may have failed (an output that cannot be cloned) while the plugin sits at a yield: close it too.
      await iterator.return?.()?.catch(() => undefined);
      send({ type: "error", phase: "run", error: serializeError(error) });
      return;
    }
  }
  // Aborted: close the plugin's iterator (a generator suspended at a yield runs its finally blocks now).
  await iterator.return?.()?.catch(() => undefined);
  send({ type: "closed" });
}
