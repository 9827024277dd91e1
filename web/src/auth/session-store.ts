/**
 * The signed-in session, in memory (see oidc.ts for why), with what the
 * Connect interceptor needs: a current access token, refreshed shortly
 * before it expires, one refresh at a time (refresh tokens rotate: two
 * concurrent refreshes with one token would end the session).
 */
import { refreshSession, type Session, type WebConfig } from "./oidc.js";

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 30_000;

type Listener = (session: Session | undefined) => void;

export class SessionStore {
  #session: Session | undefined;
  #refreshing: Promise<Session> | undefined;
  readonly #listeners = new Set<Listener>();

  constructor(readonly config: WebConfig) {}

  get session(): Session | undefined {
    return this.#session;
  }

  set(session: Session | undefined): void {
    this.#session = session;
    for (const listener of this.#listeners) listener(session);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A token that is valid for a while yet; undefined when signed out. */
  async accessToken(): Promise<string | undefined> {
    const session = this.#session;
    if (!session) return undefined;
    if (session.expiresAt - Date.now() > REFRESH_MARGIN_MS || !session.refreshToken) return session.accessToken;
    // The first caller starts the refresh and stores its outcome once; the others wait for it.
    this.#refreshing ??= refreshSession(this.config, session)
      .then(
        (next) => (this.set(next), next),
        (error: unknown) => {
          // The provider ended the session (sign-out elsewhere, restart, a replayed token): signed out here too.
          this.set(undefined);
          throw error;
        },
      )
      .finally(() => {
        this.#refreshing = undefined;
      });
    try {
      return (await this.#refreshing).accessToken;
    } catch {
      return undefined;
    }
  }
}
