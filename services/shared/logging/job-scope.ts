/**
 * Which job the current async context works for, so that every log line of
 * a job carries `job_id` without each call site passing it along.
 *
 * A job's id is known only once the job record exists, which is some way
 * into the job, while the lines that should carry it start earlier (the
 * RPC's own line is opened before the handler runs). So the context holds a
 * mutable scope: it is opened first (by the request-logging interceptor, or
 * by the job itself when nothing opened one), and the job fills in its id
 * with {@link setCurrentJobId} as soon as it has one; every line logged in
 * that scope from then on, the RPC's closing line included, carries it.
 *
 * Jobs are async generators, and a generator's body resumes in the context
 * of whoever calls `next()`; {@link inJobScope} therefore runs every step of
 * a generator inside one scope, whoever drives it.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The job a piece of work belongs to; `jobId` is filled in once known. */
export interface JobScope {
  jobId?: string;
}

const storage = new AsyncLocalStorage<JobScope>();

/**
 * Runs `fn` with `jobId` as the current job: every line logged inside it, in
 * any async continuation, carries `job_id`. Jobs nest; the innermost wins.
 */
export function withJobContext<T>(jobId: string, fn: () => T): T {
  return storage.run({ jobId }, fn);
}

/** Runs `fn` inside `scope` (a scope opened earlier, e.g. by an interceptor). */
export function runInJobScope<T>(scope: JobScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The job id of the nearest enclosing scope, if it has one yet. */
export function currentJobId(): string | undefined {
  return storage.getStore()?.jobId;
}

/**
 * Names the job the current scope works for. Returns false when no scope is
 * open (the caller is not running inside {@link inJobScope} or an
 * interceptor's scope), so nothing would carry the id.
 */
export function setCurrentJobId(jobId: string): boolean {
  const scope = storage.getStore();
  if (scope === undefined) return false;
  scope.jobId = jobId;
  return true;
}

/**
 * `source` with every step (`next`, `return`, `throw`) run inside one job
 * scope: `given`, else the scope open where the first step is taken, else a
 * new one. The
 * generator inside can then call {@link setCurrentJobId}, and lines logged by
 * it, by whatever it awaits, and by an enclosing scope's owner carry the id.
 */
export function inJobScope<T, R = unknown>(source: AsyncGenerator<T, R>, given?: JobScope): AsyncGenerator<T, R> {
  let scope: JobScope | undefined = given;
  const step = <A>(fn: () => Promise<A>): Promise<A> => {
    scope ??= storage.getStore() ?? {};
    return storage.run(scope, fn);
  };
  const scoped: AsyncGenerator<T, R> = {
    next: (...args) => step(() => source.next(...args)),
    return: (value) => step(() => source.return(value)),
    throw: (error) => step(() => source.throw(error)),
    [Symbol.asyncIterator]: () => scoped,
  };
  return scoped;
}
