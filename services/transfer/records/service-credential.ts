/**
 * The transfer service's own credential for calling the records service,
 * and the Connect client interceptor that uses it.
 *
 * Every records call carries the service's bearer token (role `service`,
 * audience `dataexchange-records`) and, when the call is made for a user, that
 * user's identity in the on-behalf-of headers (`onBehalfOfHeaders`), read
 * from the call's context values ({@link callerValues}). The records service
 * then grants the intersection of the service's and the user's rights: the
 * user's token itself never leaves the transfer service (its audience is the
 * transfer service, so the records service would refuse it anyway).
 *
 * Where the token comes from:
 * - `DX_TRANSFER_SERVICE_TOKEN_FILE`: a file holding the token, written by
 *   whatever obtains it (an OAuth2 client-credentials sidecar, a Kubernetes
 *   projected token); re-read when the file changes.
 * - `DX_TRANSFER_CLIENT_ID` with `DX_TRANSFER_CLIENT_SECRET` (or
 *   `DX_TRANSFER_CLIENT_SECRET_FILE`): the service's own client credentials at
 *   the identity provider (`DX_TRANSFER_TOKEN_ISSUER`, else the first URL in
 *   `DX_AUTH_ISSUER`; found by discovery), asking for the records service by
 *   `DX_TRANSFER_TOKEN_RESOURCE` and/or `DX_TRANSFER_TOKEN_SCOPE`; renewed
 *   before it expires. `npm start` sets these for the development provider.
 * - dev mode (`isDevMode`) with the development key trusted and neither of
 *   the above: a token minted with the development key (`signDevToken`),
 *   renewed before it expires.
 * Outside dev mode one of the first two is required: the service does not
 * start without a way to authenticate to the records service.
 */
import { readFile, stat } from "node:fs/promises";
import { Code, ConnectError, createContextKey, createContextValues, type ContextValues, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import { AUDIENCES, DEV_ISSUER, devKeysDir, ensureDevKeys, isDevMode, loadAuthConfig, onBehalfOfHeaders, signDevToken, trustsDevKey, type Principal } from "../../shared/auth/index.js";
import { JOB_ID_HEADER } from "../../shared/audit/index.js";
import { clientCredentialsTokenSource } from "../../shared/oidc-client/index.js";

/** A source of the service's bearer token. */
export interface ServiceCredential {
  /** The current token (cached; renewed or re-read as needed). */
  token(): Promise<string>;
  /** Where the token comes from, for the start-up log (never the token). */
  readonly description: string;
}

/** The subject of the transfer service's development token. */
export const TRANSFER_SERVICE_SUBJECT = "transfer-service";

/** A fixed token (tests). */
export function staticCredential(token: string | (() => Promise<string>), description = "a fixed token"): ServiceCredential {
  return { token: typeof token === "string" ? async () => token : token, description };
}

/**
 * A token kept in a file: read on first use, then re-read whenever the file's
 * modification time or size changes (checked at most every `checkEveryMs`).
 */
export function tokenFileCredential(path: string, options: { checkEveryMs?: number } = {}): ServiceCredential {
  const checkEveryMs = options.checkEveryMs ?? 1_000;
  let cached: { token: string; version: string } | undefined;
  let checkedAt = 0;
  return {
    description: `token file ${path}`,
    async token() {
      if (cached && Date.now() - checkedAt < checkEveryMs) return cached.token;
      let version: string;
      try {
        const info = await stat(path);
        version = `${info.mtimeMs}:${info.size}:${info.ino}`;
      } catch (error) {
        throw new Error(`the service token file ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      checkedAt = Date.now();
      if (cached?.version === version) return cached.token;
      const token = (await readFile(path, "utf8")).trim();
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new Error(`the service token file ${path} does not hold a JWT`);
      cached = { token, version };
      return token;
    },
  };
}

export interface DevCredentialOptions {
  /** Default the records audience (`DX_AUTH_AUDIENCE_RECORDS` or `dataexchange-records`). */
  audience?: string;
  /** Default {@link DEV_ISSUER}. */
  issuer?: string;
  /** Lifetime of each token in seconds; default 900. */
  ttlSeconds?: number;
  /** Default the development keys' folder. */
  keysDir?: string;
}

/**
 * Tokens minted with the development key (`sub: transfer-service`, roles
 * `service`), each renewed once less than a fifth of its lifetime (at least
 * 30 s) is left, so a call never leaves with a token about to expire.
 */
export function devServiceCredential(options: DevCredentialOptions = {}): ServiceCredential {
  const ttl = options.ttlSeconds ?? 900;
  const margin = Math.max(30, Math.floor(ttl / 5)) * 1000;
  const keys = ensureDevKeys(options.keysDir ?? devKeysDir());
  let current: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  return {
    description: `development token (sub ${TRANSFER_SERVICE_SUBJECT}, roles service, renewed every ${ttl - margin / 1000} s)`,
    token() {
      if (current && current.expiresAt - Date.now() > margin) return Promise.resolve(current.token);
      pending ??= signDevToken({ subject: TRANSFER_SERVICE_SUBJECT, roles: ["service"], audience: options.audience ?? AUDIENCES.records, issuer: options.issuer ?? DEV_ISSUER, ttlSeconds: ttl, keys })
        .then((token) => {
          current = { token, expiresAt: Date.now() + ttl * 1000 };
          return token;
        })
        .finally(() => (pending = undefined));
      return pending;
    },
  };
}

/** The credential the environment configures (see the module comment). */
export function serviceCredentialFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceCredential {
  const file = env.DX_TRANSFER_SERVICE_TOKEN_FILE?.trim();
  const clientId = env.DX_TRANSFER_CLIENT_ID?.trim();
  if (file && clientId) throw new Error("set either DX_TRANSFER_SERVICE_TOKEN_FILE or DX_TRANSFER_CLIENT_ID, not both: the transfer service has one credential for the records service");
  if (file) return tokenFileCredential(file);
  if (clientId) return clientCredentialsFromEnv(clientId, env);
  if (!isDevMode(env)) {
    throw new Error(
      "the transfer service needs a credential for the records service outside dev mode: DX_TRANSFER_CLIENT_ID and DX_TRANSFER_CLIENT_SECRET (client credentials at the identity provider), or DX_TRANSFER_SERVICE_TOKEN_FILE (a file holding its token: role service, audience dataexchange-records)",
    );
  }
  // The records service reads the same variables: mint with the development key only if it trusts it, and for the issuer it trusts it for.
  const auth = loadAuthConfig(env, { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records });
  if (!trustsDevKey(auth)) {
    throw new Error(
      "the records service trusts an identity provider, not the development key: give the transfer service DX_TRANSFER_CLIENT_ID and DX_TRANSFER_CLIENT_SECRET (or DX_TRANSFER_SERVICE_TOKEN_FILE)",
    );
  }
  return devServiceCredential({ audience: auth.audience, issuer: auth.keySource.kind === "dev" ? auth.issuers[0] : DEV_ISSUER, keysDir: devKeysDir(env) });
}

/** Client credentials at the identity provider, from the environment (see the module comment). */
function clientCredentialsFromEnv(clientId: string, env: NodeJS.ProcessEnv): ServiceCredential {
  const secret = env.DX_TRANSFER_CLIENT_SECRET;
  const secretFile = env.DX_TRANSFER_CLIENT_SECRET_FILE?.trim();
  if (!secret === !secretFile) throw new Error("DX_TRANSFER_CLIENT_ID needs exactly one of DX_TRANSFER_CLIENT_SECRET and DX_TRANSFER_CLIENT_SECRET_FILE");
  const issuer =
    env.DX_TRANSFER_TOKEN_ISSUER?.trim() ||
    (env.DX_AUTH_ISSUER ?? "")
      .split(",")
      .map((s) => s.trim())
      .find((s) => /^https?:\/\//.test(s));
  if (!issuer) throw new Error("DX_TRANSFER_CLIENT_ID needs the identity provider's URL: DX_TRANSFER_TOKEN_ISSUER, or an http(s) issuer in DX_AUTH_ISSUER");
  const resource = env.DX_TRANSFER_TOKEN_RESOURCE?.trim() || undefined;
  const scope = env.DX_TRANSFER_TOKEN_SCOPE?.trim() || undefined;
  return clientCredentialsTokenSource({
    issuer,
    clientId,
    clientSecret: secretFile ? async () => (await readFile(secretFile, "utf8")).trim() : secret!,
    resource,
    scope,
  });
}

/** The user a records call is made for, and the transfer job it belongs to. */
export const RECORDS_CALLER = createContextKey<{ principal?: Principal; jobId?: string } | undefined>(undefined, { description: "the user a records call is made for" });

/** Context values for a records call made for `principal` (in job `jobId`). */
export function callerValues(principal: Principal | undefined, jobId?: string): ContextValues {
  const values = createContextValues();
  values.set(RECORDS_CALLER, { principal, jobId });
  return values;
}

/**
 * The records client interceptor that names a call's job (x-dx-job-id), with
 * or without a credential: the records service remembers an import's writes
 * under it for RevertWrites. With a credential it is believed only because the
 * service's token carries it (forwardedJobId); a records service without auth
 * believes it as it is.
 */
export const forwardJobIdInterceptor: Interceptor = (next) => async (req) => {
  const jobId = req.contextValues.get(RECORDS_CALLER)?.jobId;
  if (jobId) req.header.set(JOB_ID_HEADER, jobId);
  return next(req);
};

/**
 * The records client interceptor: the service's token, the forwarded user
 * (never the user's own token), and the job id. A records service that
 * refuses the service's token is the operator's problem, not the user's: it
 * becomes UNAVAILABLE, so a user never reads "your token is invalid" about a
 * token they did not send.
 */
export function serviceCredentialInterceptor(credential: ServiceCredential): Interceptor {
  return (next) => async (req) => {
    let token: string;
    try {
      token = await credential.token();
    } catch (error) {
      throw new ConnectError(`the transfer service cannot authenticate to the records service: ${(error as Error).message}`, Code.Unavailable, undefined, undefined, error);
    }
    req.header.set("authorization", `Bearer ${token}`);
    const caller = req.contextValues.get(RECORDS_CALLER);
    if (caller?.principal) for (const [name, value] of Object.entries(onBehalfOfHeaders(caller.principal))) req.header.set(name, value);
    if (caller?.jobId) req.header.set(JOB_ID_HEADER, caller.jobId);
    try {
      const res = await next(req);
      return res.stream ? ({ ...res, message: remapStream(res.message) } as StreamResponse) : (res as UnaryResponse);
    } catch (error) {
      throw remap(error);
    }
  };
}

function remap(error: unknown): unknown {
  if (error instanceof ConnectError && error.code === Code.Unauthenticated) {
    return new ConnectError(`the records service refused the transfer service's credential: ${error.rawMessage}`, Code.Unavailable, undefined, undefined, error);
  }
  return error;
}

async function* remapStream<T>(messages: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (error) {
    throw remap(error);
  }
}
