/**
 * A plugin's own failure, named. A plugin's `read`/`write` is a transform
 * over an input the core hands it (bytes of an upload, record batches of a
 * cursor), so what escapes its iteration is either the input's failure passed
 * through (a cancelled job, the file-size limit, the records service gone) —
 * which must reach the job unchanged — or the plugin's own bug, which must
 * fail the job saying which plugin it was. A worker already tells the two
 * apart (workers/remote-job.ts); this does the same for in-thread plugins.
 */
import { asFormatError, isFormatError } from "../../../formats/_sdk/index.js";
import { FormatPluginError } from "../plugins/plugin-errors.js";
import { UnwritableExportError } from "./errors.js";

/**
 * Runs `transform` over `input`. What the input throws comes out unchanged
 * (even when the plugin wraps or replaces it on the way); a `FormatError` (a
 * file the plugin cannot read further; one of another copy of the SDK, which
 * a plugin from `pluginDirs` may bring, as this copy's) and an already named
 * plugin failure come out unchanged; anything else the plugin throws becomes a
 * {@link FormatPluginError} naming `plugin`, with the original as its cause.
 * A writer's `FormatError` (`writing`) is data the format cannot hold, and
 * comes out as an {@link UnwritableExportError}, so that it is not reported
 * as a file that cannot be read.
 */
export async function* namingPluginFailures<I, O>(
  plugin: string,
  input: AsyncIterable<I>,
  transform: (input: AsyncIterable<I>) => AsyncIterable<O>,
  side: "reading" | "writing" = "reading",
): AsyncGenerator<O> {
  let inputFailure: { error: unknown } | undefined;
  const watched = (async function* () {
    try {
      yield* input;
    } catch (error) {
      inputFailure = { error };
      throw error;
    }
  })();
  try {
    yield* transform(watched);
  } catch (error) {
    if (inputFailure) throw inputFailure.error;
    if (isFormatError(error)) throw side === "writing" ? new UnwritableExportError(asFormatError(error)) : asFormatError(error);
    if (error instanceof FormatPluginError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new FormatPluginError(plugin, "failed", detail, { cause: error });
  }
}
