/**
 * How `npm start` sets up sign-in, from the environment it is given — one
 * answer for `npm start` itself, `npm run token` and `npm run seed`, so that
 * they agree on whether the development key is trusted.
 *
 * - Nothing about auth in the environment (the default): `npm start` runs the
 *   development OpenID Connect provider (services/identity) and configures
 *   both services to trust it (`DX_AUTH_ISSUER`, `DX_AUTH_JWKS_URL`), the
 *   transfer service to call the records service with its own client
 *   credentials, and — unless `DX_AUTH_TRUST_DEV_KEY=0` — the development key
 *   too, for `npm run token`'s tokens (scripts and tests).
 * - `DX_AUTH_ISSUER`, `DX_AUTH_JWKS_URL` or `DX_AUTH_PUBLIC_KEY_FILE` set: an
 *   identity provider of the operator's; no development provider runs, and
 *   the services read the environment as it is (the development key only with
 *   `DX_AUTH_DEV=1` and `DX_AUTH_TRUST_DEV_KEY=1`, or as the key itself).
 */
import { AUDIENCES, loadAuthConfig, trustsDevKey } from "../../services/shared/auth/index.js";
import { CLIENT_IDS, DEV_CLIENT_SECRETS, RESOURCES } from "../../services/identity/dev-clients.js";

export interface StackPorts {
  identity: number;
  transfer: number;
}

export interface StackAuth {
  /** The development provider `npm start` runs, if it runs one. */
  identity?: { issuer: string; port: number; env: Record<string, string> };
  /** Added to both services' environment. */
  servicesEnv: Record<string, string>;
  /** Added to the transfer service's environment. */
  transferEnv: Record<string, string>;
  /** Whether the services will accept `npm run token`'s tokens. */
  devKeyTrusted: boolean;
  /** One line for `npm start`'s output. */
  description: string;
}

/** The ports `npm start` uses unless told otherwise. */
export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  return { identity: envPort(env, "IDENTITY_PORT", 9000), transfer: envPort(env, "TRANSFER_PORT", 8000) };
}

/**
 * A port from the environment as the services read it: the default when the
 * variable is unset or empty, else decimal digits up to 65535 — `Number()`
 * took an empty or blank value as port 0 (any free port, which the start
 * script would then wait for in vain) and `0x1F90` as 8080.
 */
export function envPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (env[name] === undefined || env[name] === "") return fallback;
  if (text === undefined || !/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`${name} must be a port number (0 to 65535), not ${JSON.stringify(env[name])}`);
  return Number(text);
}

/** What `npm start` does about sign-in, given `env` (see the module comment). */
export function stackAuth(env: NodeJS.ProcessEnv = process.env, ports: StackPorts = stackPorts(env)): StackAuth {
  if (env.DX_AUTH_ISSUER || env.DX_AUTH_JWKS_URL || env.DX_AUTH_PUBLIC_KEY_FILE) {
    let config: ReturnType<typeof loadAuthConfig>;
    try {
      config = loadAuthConfig(env, { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records });
    } catch (error) {
      // The services will say what is wrong when they start; nothing here is trusted meanwhile.
      return { servicesEnv: {}, transferEnv: {}, devKeyTrusted: false, description: `auth: ${(error as Error).message}` };
    }
    const source = config.keySource.kind === "file" ? `key file ${config.keySource.path}` : `issuer ${config.issuers.join(", ")}`;
    return { servicesEnv: {}, transferEnv: {}, devKeyTrusted: trustsDevKey(config, env), description: `auth: as configured in the environment (${source}); no development identity provider` };
  }
  const host = env.IDENTITY_HOST ?? "127.0.0.1";
  const issuer = env.IDENTITY_ISSUER ?? `http://${host}:${ports.identity}`;
  const trustDevKey = !(env.DX_AUTH_TRUST_DEV_KEY === "0" || env.DX_AUTH_TRUST_DEV_KEY === "false");
  const servicesEnv = { DX_AUTH_DEV: "1", DX_AUTH_ISSUER: issuer, DX_AUTH_JWKS_URL: `${issuer}/jwks`, DX_AUTH_TRUST_DEV_KEY: trustDevKey ? "1" : "0" };
  const transferEnv = {
    DX_TRANSFER_CLIENT_ID: CLIENT_IDS.transferService,
    DX_TRANSFER_CLIENT_SECRET: DEV_CLIENT_SECRETS[CLIENT_IDS.transferService],
    DX_TRANSFER_TOKEN_RESOURCE: RESOURCES.records,
  };
  const origins = [`http://127.0.0.1:${ports.transfer}`, `http://localhost:${ports.transfer}`].join(",");
  return {
    identity: { issuer, port: ports.identity, env: { IDENTITY_PORT: String(ports.identity), IDENTITY_WEB_ORIGINS: env.IDENTITY_WEB_ORIGINS ?? origins } },
    servicesEnv,
    transferEnv,
    devKeyTrusted: trustDevKey,
    description: `auth: the development identity provider at ${issuer}${trustDevKey ? ", and the development key (npm run token; DX_AUTH_TRUST_DEV_KEY=0 turns it off)" : "; the development key is not trusted (DX_AUTH_TRUST_DEV_KEY=0)"}`,
  };
}
