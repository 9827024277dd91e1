/**
 * A queue one side fills by pushing and the other side pulls from as an
 * async iterator: the request side of a bidi call (the records write stream),
 * the input a plugin reads in a worker, the output a consumer reads on the
 * main thread. The queue itself is unbounded: whoever pushes keeps it short
 * (one batch per answer awaited, or the workers' credit windows).
 */
export class PushQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly waiters: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void }[] = [];
  /** Set once: how the queue ends after its items (normally, or with an error). */
  private ending: { error?: unknown; failed: boolean } | undefined;

  /** Items waiting to be taken. */
  get size(): number {
    return this.items.length;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Adds an item; false (and nothing added) once the queue has ended. */
  push(item: T): boolean {
    if (this.ending) return false;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ value: item, done: false });
    else this.items.push(item);
    return true;
  }

  /** No more items: the iterator finishes after the queued ones. */
  end(): void {
    this.finish({ failed: false });
  }

  /** The iterator throws `error` after the queued items. */
  fail(error: unknown): void {
    this.finish({ error, failed: true });
  }

  /** Drops the queued items and makes every pull, pending or later, throw `error` at once. */
  interrupt(error: unknown): void {
    this.items.length = 0;
    this.ending = undefined;
    this.finish({ error, failed: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ending) return this.ending.failed ? Promise.reject(this.ending.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * The consumer stopped (a `break`, or Connect ending the request side of a
   * failed call): the queued items are dropped and later pushes refused. The
   * failure itself reaches the producer another way (the response side).
   */
  private stop(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.finish({ failed: false });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next(), return: () => this.stop(), throw: () => this.stop() };
  }

  private finish(ending: { error?: unknown; failed: boolean }): void {
    if (this.ending) return;
    this.ending = ending;
    if (this.items.length > 0) return; // waiters exist only when the queue is empty
    for (const waiter of this.waiters.splice(0)) {
      if (ending.failed) waiter.reject(ending.error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }
}
