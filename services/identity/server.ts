/**
 * The development OpenID Connect provider, as its own process (`npm start`
 * runs it beside the two services): `tsx services/identity/server.ts`.
 * Configuration: identity-config.ts; what it issues: provider-configuration.ts;
 * accounts and clients: dev-accounts.ts, dev-clients.ts; README: Sign-in.
 */
import type { Logger } from "../shared/logging/index.js";
import { isMain, runService, stopOnSignals } from "../shared/process/index.js";
import { loadIdentityConfig } from "./identity-config.js";
import { startIdentityServer } from "./identity-server.js";

export { startIdentityServer, type IdentityServer, type IdentityServerOptions } from "./identity-server.js";

async function main(logger: Logger): Promise<void> {
  const config = loadIdentityConfig();
  const server = await startIdentityServer({ config, logger });
  logger.info(
    {
      lifecycle: "listening",
      url: server.issuer,
      host: config.host,
      port: server.port,
      issuer: server.issuer,
      jwks_uri: server.jwksUrl,
      clients: server.clients.map((c) => c.metadata.client_id),
      web_origins: config.webOrigins,
      keys_file: config.keysFile,
      access_token_ttl_s: config.accessTokenTtlSeconds,
    },
    "identity provider listening",
  );
  stopOnSignals("identity", logger, () => server.close());
}

if (isMain(import.meta.url)) runService("identity", main);
