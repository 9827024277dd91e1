/**
 * Where the development provider keeps sessions, interactions, grants, codes
 * and refresh tokens: memory, one store per server, shared by the provider
 * instances a key rotation swaps (identity-server.ts), so a rotation signs
 * nobody out.
 *
 * oidc-provider's own in-memory adapter is an LRU of 1000 entries shared by
 * the whole process (a busy test run would evict live sessions) and warns at
 * every start that it is for quick starts only; this one is explicit: entries
 * live until they expire, nothing else evicts them. A restart forgets
 * everything — fine for development, where signing in again is the cost.
 *
 * The adapter contract (oidc-provider docs, "adapter"): upsert / find /
 * findByUid (sessions) / findByUserCode (device codes) / consume / destroy /
 * revokeByGrantId (every token of a grant, e.g. when a refresh token is
 * reused or a session ends).
 */
import type { Adapter, AdapterPayload } from "oidc-provider";

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms; Infinity when the model gave no lifetime. */
  expiresAt: number;
}

/** One server's store; `adapterFor` is oidc-provider's `adapter` option. */
export class MemoryStore {
  private readonly entries = new Map<string, Entry>();
  /** grantId → keys of the tokens and codes issued under it. */
  private readonly byGrant = new Map<string, Set<string>>();
  /** Session uid → session key; device user code → device code key. */
  private readonly byUid = new Map<string, string>();
  private readonly byUserCode = new Map<string, string>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepEveryMs = 60_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs).unref();
  }

  /** The adapter class for oidc-provider's `adapter` option. */
  get adapter(): new (
    model: string,
  ) => Adapter {
    const store = this;
    return class implements Adapter {
      constructor(private readonly model: string) {}
      async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
        store.upsert(`${this.model}:${id}`, payload, expiresIn);
      }
      async find(id: string) {
        return store.get(`${this.model}:${id}`);
      }
      async findByUid(uid: string) {
        const key = store.byUid.get(uid);
        return key ? store.get(key) : undefined;
      }
      async findByUserCode(userCode: string) {
        const key = store.byUserCode.get(userCode);
        return key ? store.get(key) : undefined;
      }
      async consume(id: string) {
        const payload = store.get(`${this.model}:${id}`);
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      }
      async destroy(id: string) {
        store.delete(`${this.model}:${id}`);
      }
      async revokeByGrantId(grantId: string) {
        for (const key of store.byGrant.get(grantId) ?? []) store.delete(key);
        store.byGrant.delete(grantId);
      }
    };
  }

  /** How many live entries the store holds (tests). */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  /** Stops the sweeper. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private upsert(key: string, payload: AdapterPayload, expiresIn: number): void {
    this.delete(key);
    const expiresAt = typeof expiresIn === "number" && expiresIn > 0 ? Date.now() + expiresIn * 1000 : Infinity;
    this.entries.set(key, { payload, expiresAt });
    if (payload.grantId) {
      const keys = this.byGrant.get(payload.grantId) ?? new Set<string>();
      this.byGrant.set(payload.grantId, keys.add(key));
    }
    if (payload.uid && key.startsWith("Session:")) this.byUid.set(payload.uid, key);
    if (payload.userCode) this.byUserCode.set(payload.userCode, key);
  }

  private get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const { grantId, uid, userCode } = entry.payload;
    if (grantId) {
      const keys = this.byGrant.get(grantId);
      keys?.delete(key);
      if (keys?.size === 0) this.byGrant.delete(grantId);
    }
    if (uid && this.byUid.get(uid) === key) this.byUid.delete(uid);
    if (userCode && this.byUserCode.get(userCode) === key) this.byUserCode.delete(userCode);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.delete(key);
  }
}
