/**
 * The messages between the transfer service's main thread and a format
 * worker. Two channels, on purpose:
 *
 * - the worker's own port (`parentPort`) carries start-up and probe messages;
 * - each job gets a fresh `MessageChannel`, whose far end is handed to the
 *   worker with the job. When the job ends both ends are closed, so a late
 *   message of an old job can never be mistaken for one of the next job on
 *   the same thread.
 *
 * Flow control is credit-based in both directions: the main thread sends at
 * most `inputWindow` input batches the plugin has not taken yet (the worker
 * acknowledges each one the plugin takes), and the worker sends at most as
 * many output batches as the main thread granted credits for (one credit per
 * batch its consumer took). So however slow either side is, no more than a
 * window of batches waits in either direction, and memory stays flat.
 */
import type { MessagePort } from "node:worker_threads";
import type { Column, ReadItem, ReadLimits, Row, WritePart, WriteSource } from "../../../../formats/_sdk/index.js";
import type { SerializedError } from "./error-codec.js";
import type { PackedReadItems } from "./read-items-codec.js";

/** Where a plugin lives: the worker imports `entry` itself (code cannot cross threads). */
export interface PluginRef {
  name: string;
  /** Absolute path of the plugin's entry module. */
  entry: string;
}

/** One `write` (rows → bytes) or `read` (bytes → rows) job: plain data only. */
export type JobSpec = { plugin: PluginRef; inputWindow: number; outputWindow: number } & (
  | { operation: "write"; options: unknown; columns: Column[]; useLabels: boolean; source?: WriteSource; parts?: WritePart[] }
  | { operation: "read"; options: unknown; columns?: Column[]; limits: ReadLimits }
);

/** Main thread → worker, on the worker's own port. */
export type ToWorker =
  | { type: "job"; port: MessagePort; job: JobSpec }
  /** Load and check these plugins, answer `probed` (used once at start to find plugins that cannot run in a worker). */
  | { type: "probe"; plugins: PluginRef[] };

/** Worker → main thread, on the worker's own port. */
export type FromWorker =
  /** The worker loaded its code and takes jobs. */
  { type: "ready" } | { type: "probed"; failures: { name: string; error: string }[] };

/** What a job's input and output batches are: rows (structured clone), bytes (transferred), read items (packed for the trip, read-items-codec.ts). */
export type JobValue = Row[] | ReadItem[] | Uint8Array | PackedReadItems;

/**
 * Main thread → worker, on a job's port. Credits and acknowledgements ride
 * along with the next batch when one goes the same way soon (and are sent on
 * their own otherwise), which halves the messages per batch: each message
 * costs the receiving thread an event-loop turn.
 */
export type ToJob =
  | { type: "input"; value: JobValue; credit?: number }
  /** The input ended; the plugin's input iterator finishes after the batches sent so far. */
  | { type: "end" }
  /** The consumer took `n` more output batches: the worker may send `n` more. */
  | { type: "credit"; n: number }
  /** Stop: close the plugin's iterators (its `finally` blocks run), then answer `closed`. */
  | { type: "abort" };

/** Worker → main thread, on a job's port. Every one of them counts as progress for the time limit. */
export type FromJob =
  /** The plugin module is loaded and the job started; `nice` is the thread's nice value now (absent where it cannot tell). */
  | { type: "started"; nice?: number }
  /** The plugin took `n` input batches: the main thread may send `n` more. */
  | { type: "ack"; n: number }
  | { type: "output"; value: JobValue; acks?: number }
  | { type: "done" }
  | { type: "error"; error: SerializedError; phase: "load" | "run" }
  /** Answer to `abort`: the plugin's iterators are closed. */
  | { type: "closed" };

/** Input batches the main thread may send ahead of the plugin: one being worked on, one waiting. */
export const INPUT_WINDOW = 2;
/** Output batches the worker may produce ahead of the consumer. */
export const OUTPUT_WINDOW = 2;
