/**
 * The live progress of a job on a terminal: one cli-progress bar per job,
 * redrawn at most 10 times a second, with lines (row errors) printed above
 * it. When the total is unknown (a file from stdin, an export without an
 * estimate) a spinner stands in for the bar. Off a terminal, with --quiet or
 * --json, the same calls draw nothing (see {@link Output.live}).
 */
import cliProgress from "cli-progress";
import { bytes } from "./output.js";

/** The greatest redraw rate: a bar that changes faster is unreadable and costs CPU. */
export const REDRAWS_PER_SECOND = 10;

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface ProgressLine {
  /** The bar's position (bytes sent, records written) and the values its text shows. */
  update(value: number, payload?: Record<string, string | number>): void;
  /** The total once known (an export's estimate). */
  setTotal(total: number): void;
  /** A line printed above the bar. */
  log(line: string): void;
  /** Ends at 100 %: the value becomes the total. */
  complete(): void;
  /** Stops drawing, leaving the last frame. */
  stop(): void;
}

export interface ProgressSpec {
  /** "importing users.csv", "exporting users". */
  label: string;
  /** The total, or 0 when unknown. */
  total: number;
  /** What the value counts. */
  unit: "bytes" | "records";
  /** Extra text after the counts, from the payload: "{rows} rows, {rate} rows/s". */
  detail: string;
  /** Whether to show the estimated time left (exports: records of the estimate; not imports, whose bytes are sent long before rows are written). */
  eta?: boolean;
  payload: Record<string, string | number>;
}

/** Draws nothing: not a terminal, --quiet or --json. Row error lines still go to stderr unless `silent`. */
export function quietProgress(silent: boolean): ProgressLine {
  return {
    update() {},
    setTotal() {},
    log(line) {
      if (!silent) process.stderr.write(`${line}\n`);
    },
    complete() {},
    stop() {},
  };
}

/** A live bar on stderr (a terminal). */
export function liveProgress(spec: ProgressSpec): ProgressLine {
  let total = spec.total;
  let value = 0;
  let payload: Record<string, string | number> = { ...spec.payload };
  const show = (n: number) => (spec.unit === "bytes" ? bytes(n) : String(n));
  const withBar = `${spec.label} [{bar}] {percentage}% | {shownValue}/{shownTotal} | ${spec.detail}${spec.eta === false ? "" : " | ETA {eta_formatted}"}`;
  const withSpinner = `${spec.label} {spinner} {shownValue} | ${spec.detail} | {duration_formatted}`;
  const multibar = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      fps: REDRAWS_PER_SECOND,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 24,
      format: (options, params, values) => {
        const text = total > 0 ? withBar : withSpinner;
        // The spinner turns with time, not with updates: it shows the command is alive while the server has nothing to say.
        const spinner = SPINNER[Math.floor(Date.now() / 100) % SPINNER.length]!;
        return cliProgress.Format.Formatter({ ...options, format: text }, params, { ...values, spinner });
      },
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = multibar.create(total, 0, payloadFor());
  function payloadFor(): Record<string, string | number> {
    return { ...payload, shownValue: show(value), shownTotal: show(total) };
  }
  return {
    update(next, more) {
      value = next;
      if (more) payload = { ...payload, ...more };
      bar.update(Math.min(value, total || value), payloadFor());
    },
    setTotal(next) {
      if (next <= 0 || next === total) return;
      total = next;
      bar.setTotal(total);
      bar.update(Math.min(value, total), payloadFor());
    },
    log(line) {
      multibar.log(`${line}\n`);
    },
    complete() {
      total = Math.max(total, value, 1);
      value = total;
      bar.setTotal(total);
      bar.update(total, payloadFor());
    },
    stop() {
      multibar.update(); // a redraw, which prints the lines logged since the last one (stop() alone drops them)
      multibar.stop();
    },
  };
}
