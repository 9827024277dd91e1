/**
 * The time limit of a plugin running in a worker. It is a limit on *silence*,
 * not on the job's length: a 1M-row export may take minutes, and a plugin
 * waiting for rows from a slow database, or for a slow client to take its
 * bytes, is not hung. So the clock runs only while the plugin owes progress
 * (it holds input it has not taken, or the input has ended, and the consumer
 * wants output; or its module is still loading; or it was asked to stop),
 * and any message from the plugin's job restarts it.
 */
export class ProgressWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly limitMs: number,
    private readonly onTimeout: () => void,
  ) {}

  /** Whether the plugin owes progress now; call after every change of the job's state. */
  expect(owed: boolean): void {
    if (this.stopped) return;
    if (owed && this.timer === undefined) this.timer = setTimeout(() => this.fire(), this.limitMs);
    else if (!owed && this.timer !== undefined) this.clear();
  }

  /** The plugin did something: the silence starts again from now. */
  progressed(): void {
    if (this.timer === undefined || this.stopped) return;
    this.timer.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.stopped = true;
    this.onTimeout();
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
