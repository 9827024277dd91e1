/**
 * The standard gRPC health service (`grpc.health.v1.Health`), so that load
 * balancers, Kubernetes probes, `grpc-health-probe` and `buf curl` can ask
 * either service whether it is ready, without knowing our own API.
 *
 * Semantics follow https://github.com/grpc/grpc/blob/master/doc/health-checking.md.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthListResponse,
} from "../../../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/** The name under which the server's overall health is registered, per the health spec. */
export const OVERALL_HEALTH = "";

type Listener = () => void;

/**
 * A registry of serving statuses that also serves them as `grpc.health.v1.Health`.
 *
 * Why a class with `setStatus` rather than a callback that computes health: the
 * spec's `Watch` must push every change, so the status has to live somewhere
 * that knows when it changes. Owners (the server builder, a Mongo connection
 * monitor) call {@link setStatus}; the RPCs only read.
 *
 * The overall status (`""`) starts as SERVING, because a server that answers
 * at all is up; individual services are unknown until registered.
 */
export class HealthService implements ServiceImpl<typeof Health> {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private terminal = false;

  /**
   * @param initial statuses to register up front, e.g. one per served service
   *   name (`"dataexchange.records.v1.RecordsService"`).
   */
  constructor(initial: Iterable<[service: string, status: ServingStatus]> = []) {
    this.statuses.set(OVERALL_HEALTH, ServingStatus.SERVING);
    for (const [service, status] of initial) this.statuses.set(service, status);
  }

  /**
   * Sets the status of one service (`""` = the whole server) and notifies its
   * watchers. Ignored after {@link shutdown}: once a server is going away,
   * nothing may report it healthy again (as grpc-java's HealthStatusManager).
   */
  setStatus(service: string, status: ServingStatus): void {
    if (this.terminal) return;
    this.update(service, status);
  }

  /** Forgets a service: Check answers NOT_FOUND again, watchers see SERVICE_UNKNOWN. */
  clearStatus(service: string): void {
    if (this.terminal || !this.statuses.delete(service)) return;
    this.notify(service);
  }

  /** The registered status of a service, or undefined if it is unknown. */
  getStatus(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /**
   * Flips every registered service to NOT_SERVING and freezes the registry.
   * Called at graceful stop, before connections are closed, so that watchers
   * (load balancers) stop routing here while in-flight calls finish.
   */
  shutdown(): void {
    this.terminal = true;
    for (const service of [...this.statuses.keys()]) this.update(service, ServingStatus.NOT_SERVING);
  }

  /** Unary check. An unknown service is NOT_FOUND, as the spec requires. */
  check(request: HealthCheckRequest): HealthCheckResponse {
    const status = this.statuses.get(request.service);
    if (status === undefined) {
      throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
    }
    return create(HealthCheckResponseSchema, { status });
  }

  /**
   * Sends the current status at once, then each change, until the caller goes
   * away or the server shuts down (the handler signal aborts). An unknown
   * service is reported as SERVICE_UNKNOWN without ending the call, per the spec.
   * Intermediate statuses that change faster than the client reads are
   * coalesced: a watcher always gets the latest one, never a stale backlog.
   */
  async *watch(request: HealthCheckRequest, context: HandlerContext): AsyncGenerator<HealthCheckResponse> {
    const { signal } = context;
    const service = request.service;
    let wake: (() => void) | undefined;
    let changed = false;
    const listener: Listener = () => {
      changed = true;
      wake?.();
    };
    const onAbort = () => wake?.();
    this.subscribe(service, listener);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      let last: ServingStatus | undefined;
      for (;;) {
        const status = this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== last) {
          last = status;
          yield create(HealthCheckResponseSchema, { status });
          continue;
        }
        // Checked after sending a pending change, so that the NOT_SERVING of
        // shutdown() still reaches watchers when the server closes right after.
        if (signal.aborted) return;
        if (!changed) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        changed = false;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.unsubscribe(service, listener);
    }
  }

  /** A snapshot of every registered service's status. */
  list(): HealthListResponse {
    const statuses: Record<string, HealthCheckResponse> = {};
    for (const [service, status] of this.statuses) {
      statuses[service] = create(HealthCheckResponseSchema, { status });
    }
    return create(HealthListResponseSchema, { statuses });
  }

  private update(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.notify(service);
  }

  private notify(service: string): void {
    for (const listener of this.listeners.get(service) ?? []) listener();
  }

  private subscribe(service: string, listener: Listener): void {
    let set = this.listeners.get(service);
    if (!set) this.listeners.set(service, (set = new Set()));
    set.add(listener);
  }

  private unsubscribe(service: string, listener: Listener): void {
    const set = this.listeners.get(service);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(service);
  }
}
