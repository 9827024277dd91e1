/**
 * The development OpenID Connect provider as an HTTP server: oidc-provider for
 * the protocol (discovery, authorization, token, JWKS, device, revocation,
 * sign-out), our sign-in page for `/interaction/…`, one log line per request.
 *
 * Key rotation without downtime: oidc-provider reads its keys once, so a
 * rotation builds a new provider instance with the new key set and swaps it
 * in for the next request, while requests already running finish on the old
 * one. Sessions, grants and refresh tokens live in one in-memory store
 * (memory-adapter.ts) that every instance of the server shares, and the cookie secrets
 * stay the same, so nobody is signed out by a rotation. A restart does sign
 * everyone out (the store is in memory); tokens already issued stay valid,
 * because the keys are kept in a file.
 *
 * The key file is watched: `npm run identity:rotate-keys` (or anything that
 * rewrites the file) is picked up within a second.
 */
import { unwatchFile, watchFile } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Provider from "oidc-provider";
import type { Logger } from "pino";
import { withHttpRequestLogging } from "../shared/logging/index.js";
import { devClients, type DevClient } from "./dev-clients.js";
import type { IdentityConfig } from "./identity-config.js";
import { createInteractionHandler } from "./interaction-routes.js";
import { MemoryStore } from "./memory-adapter.js";
import { errorPage, sendPage } from "./pages.js";
import { newCookieKeys, providerConfiguration } from "./provider-configuration.js";
import { describeSigningKeys, loadOrCreateSigningKeys, readSigningKeys, rotateSigningKeys, type SigningKeys } from "./signing-keys.js";

/** How long a retired key stays published beyond the token lifetime: the verifiers' clock skew and then some. */
export const KEY_RETENTION_MARGIN_SECONDS = 300;

export interface IdentityServerOptions {
  config: IdentityConfig;
  logger: Logger;
  /** How often the key file is checked for changes, in ms; default 1000. */
  keyFilePollMs?: number;
}

export interface IdentityServer {
  /** The issuer (`iss` of every token, base of discovery). */
  readonly issuer: string;
  readonly port: number;
  /** `<issuer>/jwks`, what `DX_AUTH_JWKS_URL` points at. */
  readonly jwksUrl: string;
  readonly clients: readonly DevClient[];
  /** The key set in use. */
  keys(): SigningKeys;
  /** Rotates the keys in the key file and starts signing with the new one at once. */
  rotateKeys(): SigningKeys;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts the provider; resolves once it listens. */
export async function startIdentityServer(options: IdentityServerOptions): Promise<IdentityServer> {
  const { config, logger } = options;
  const clients = devClients(config.webOrigins);
  const cookieKeys = newCookieKeys();
  const store = new MemoryStore();
  let keys = loadOrCreateSigningKeys(config.keysFile);
  let provider: Provider | undefined;
  let issuer = "";

  const build = (set: SigningKeys): Provider => {
    const instance = new Provider(issuer, providerConfiguration({ config, clients, keys: set, cookieKeys, store }));
    instance.proxy = false;
    observe(instance, logger);
    return instance;
  };
  const swap = (set: SigningKeys, reason: string) => {
    const next = build(set);
    keys = set;
    provider = next;
    handler = next.callback();
    logger.info({ keys: describeSigningKeys(set), active_kid: set.activeKid, reason }, "signing keys in use");
  };

  const interactions = createInteractionHandler(() => provider!, logger);
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const route = withHttpRequestLogging(async (req, res) => {
    if (await interactions(req, res)) return true;
    handler(req, res);
    return true;
  }, logger);

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    Promise.resolve(route(req, res)).catch((error: unknown) => {
      logger.error({ err: error }, "request failed");
      if (!res.headersSent) sendPage(res, 500, errorPage("The provider failed to answer."));
      else res.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  issuer = config.issuer ?? `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  swap(keys, "start");

  // Picks up a rotation made by another process (npm run identity:rotate-keys).
  const onKeyFileChange = () => {
    try {
      const read = readSigningKeys(config.keysFile);
      if (read.keys.map((k) => `${k.kid}:${k.state}`).join() !== keys.keys.map((k) => `${k.kid}:${k.state}`).join()) swap(read, "key file changed");
    } catch (error) {
      logger.error({ err: error }, "the signing key file changed but could not be read; still signing with the previous keys");
    }
  };
  watchFile(config.keysFile, { interval: options.keyFilePollMs ?? 1000 }, onKeyFileChange);

  let closed: Promise<void> | undefined;
  return {
    issuer,
    port,
    jwksUrl: `${issuer}/jwks`,
    clients,
    keys: () => keys,
    rotateKeys() {
      const rotated = rotateSigningKeys(config.keysFile, { retainSeconds: config.accessTokenTtlSeconds + KEY_RETENTION_MARGIN_SECONDS });
      swap(rotated, "rotated");
      return rotated;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        unwatchFile(config.keysFile, onKeyFileChange);
        store.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/**
 * Logs what the provider does that an operator would look for: tokens issued
 * (client, grant type, subject) and every error with its OAuth error code.
 * Never a token, code or secret: only the names oidc-provider's context holds.
 */
function observe(provider: Provider, logger: Logger): void {
  provider.on("grant.success", (ctx) => {
    const { client, params, entities } = ctx.oidc;
    const account = (entities as { Account?: { accountId: string } }).Account;
    logger.info({ client_id: client?.clientId, grant_type: params?.grant_type, subject: account?.accountId ?? client?.clientId }, "token issued");
  });
  for (const event of [
    "grant.error",
    "authorization.error",
    "end_session.error",
    "end_session_confirm.error",
    "userinfo.error",
    "revocation.error",
    "device_authorization.error",
    "code_verification.error",
    "jwks.error",
    "discovery.error",
  ] as const) {
    // Typed loosely: every route's error event has the same (ctx, error) shape.
    (provider as unknown as NodeJS.EventEmitter).on(event, (ctx: { oidc?: { client?: { clientId: string } } }, error: Error & { error?: string; error_description?: string; status?: number }) => {
      logger.info(
        { event, client_id: ctx.oidc?.client?.clientId, error: error.error ?? error.name, error_description: error.error_description, status: error.status },
        `${event.replace(".error", "")} refused`,
      );
    });
  }
  provider.on("server_error", (_ctx, error) => logger.error({ err: error }, "provider error"));
  provider.on("end_session.success", (ctx) => logger.info({ client_id: ctx.oidc.client?.clientId }, "signed out"));
}
