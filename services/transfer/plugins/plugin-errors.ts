/**
 * How a format plugin's job fails, in a worker or in-thread: one error class
 * that always names the plugin and says what happened, so an operator reading
 * a failed job (or a client reading the RPC status) knows which plugin to
 * blame and whether the service stopped it.
 *
 * A `FormatError` (a file that cannot be read further) is not one of these:
 * it is about the user's file, not about the plugin, and stays itself (across
 * the thread boundary too, see workers/error-codec.ts).
 */

export type PluginFailureKind =
  /** The plugin threw (or rejected) while reading or writing, in a worker or in-thread. */
  | "failed"
  /** The plugin made no progress within the time limit; its worker was stopped. */
  | "timed-out"
  /** The plugin's worker reached its heap limit and was stopped. */
  | "out-of-memory"
  /** The worker died some other way (an uncaught error outside the plugin's iterators, an exit). */
  | "crashed"
  /** The plugin's module could not be loaded (or checked) inside a worker. */
  | "load";

const WHAT: Record<PluginFailureKind, string> = {
  failed: "failed",
  "timed-out": "timed out",
  "out-of-memory": "ran out of memory",
  crashed: "crashed its format worker",
  load: "could not be loaded in a format worker",
};

/** A format plugin failed one job. The job fails; the service and other jobs go on. */
export class FormatPluginError extends Error {
  override name = "FormatPluginError";
  constructor(
    /** The plugin's (format's) name. */
    readonly plugin: string,
    readonly kind: PluginFailureKind,
    /** What happened, in words: the plugin's own message, or the limit that was hit. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`format plugin ${JSON.stringify(plugin)} ${WHAT[kind]}: ${detail}`, options);
  }
}
