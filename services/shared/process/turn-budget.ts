/**
 * Lets loops over many records give the event loop back every few
 * milliseconds, so that a health check or a small RPC that arrives meanwhile
 * is answered between the records instead of after all of them.
 *
 * Why: a service works on batches of hundreds of records, and each record
 * costs tens of microseconds (decoding, mapping, zod, planning), so one batch
 * done in one go held the event loop for 10–25 ms, and the batches of several
 * jobs queued back to back. Under the bench's mixed load (section
 * `mixed-load`, 8 exports and 4 imports of 50k records, builds alternated)
 * the transfer service's event loop stalled ≥ 20 ms 256 and 322 times a run,
 * and 179 and 232 times with its import loop and the records service's batch
 * planning yielding here; the slowest health check took 500–572 ms, then
 * 111–121 ms (bench/README.md, "Long loops yield"). A yield is one
 * `setImmediate` (the I/O callbacks waiting run first): a few microseconds
 * every {@link DEFAULT_TURN_MS} ms of work.
 *
 * The budget is the event loop turn's, not the loop's: promises that resolve
 * at once chain one loop's work to the next one's (a batch validated, then
 * the next one decoded) within one turn, and each loop keeping a budget of
 * its own would let the turn run as long as all of them together.
 *
 * Usage: `for (…) { if (turnSpent()) await yieldTurn(); … }`.
 */

/** How long a turn may run before a loop lets the event loop go on: well under a health check's patience, and long enough that pausing costs nothing measurable. */
const DEFAULT_TURN_MS = 4;

/** When the current turn's first check was made; meaningful while {@link inTurn}. */
let turnStartedAt = 0;
/**
 * Whether a check was made in the current turn (cleared once the event loop has turned, in its
 * next check phase: timers that fire together, in one timers phase, count as one turn).
 */
let inTurn = false;

function endTurn(): void {
  inTurn = false;
}

/**
 * Whether the work of this event loop turn, counted from its first check, has
 * used `budgetMs` (reads the clock; call it per record).
 */
export function turnSpent(budgetMs: number = DEFAULT_TURN_MS): boolean {
  const now = performance.now();
  if (!inTurn) {
    inTurn = true;
    turnStartedAt = now;
    // Runs once the event loop has turned: before a yieldTurn() scheduled later in this turn resumes its loop.
    setImmediate(endTurn);
    return false;
  }
  return now - turnStartedAt >= budgetMs;
}

/** Lets the event loop turn: pending I/O callbacks and timers run, and the next check starts a new budget. */
export function yieldTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
