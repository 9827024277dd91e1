/**
 * Both services configured as `npm start` configures them against an OpenID
 * Connect provider (issuer and `DX_AUTH_JWKS_URL`), the transfer service
 * calling the records service with its own client-credentials identity: what
 * the identity tests and `dx login`'s tests run against.
 */
import type { Interceptor } from "@connectrpc/connect";
import { CLIENT_IDS, DEV_CLIENT_SECRETS, RESOURCES } from "../../services/identity/dev-clients.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { AUDIENCES, createVerifierFromConfig, loadAuthConfig } from "../../services/shared/auth/index.js";
import { serviceCredentialFromEnv, staticCredential } from "../../services/transfer/records/service-credential.js";
import { buildTransferServer, type RunningTransferServer } from "../../services/transfer/server.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { withTestFormatWorkers } from "../support/format-workers.js";
import { recordSecret } from "../support/run-secrets.js";
import { testServiceLogger } from "../support/service-logger.js";
import type { WebUiOptions } from "../../services/transfer/api/http/web-ui.js";
import type { TestIdentity } from "./identity-harness.js";

export interface ServicesTrustingProvider {
  records: RunningRecordsServer;
  transfer: RunningTransferServer;
  recordsDb: TestDatabase;
  transferDb: TestDatabase;
  close(): Promise<void>;
}

/**
 * Starts both services trusting `identity`. `databases` names the two test
 * databases; `env` adds auth settings (e.g. `DX_AUTH_CLOCK_SKEW_SECONDS`);
 * `transfer` sets the transfer service's port (0: a free one) and web UI,
 * and interceptors of the records server (a slow records stream).
 */
export async function startServicesTrustingProvider(
  identity: TestIdentity,
  databases: [records: string, transfer: string],
  env: Record<string, string> = {},
  transfer: { port?: number; webUi?: WebUiOptions; recordsInterceptors?: Interceptor[] } = {},
): Promise<ServicesTrustingProvider> {
  const auth = { DX_AUTH_ISSUER: identity.issuer, DX_AUTH_JWKS_URL: identity.server.jwksUrl, ...env };
  const recordsDb = await openTestDatabase(databases[0]);
  const transferDb = await openTestDatabase(databases[1]);
  await ensureIndexes(recordsDb.db);
  const records = await buildRecordsServer({
    db: recordsDb.db,
    port: 0,
    auth: { verifier: createVerifierFromConfig(loadAuthConfig(auth, { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records })) },
    logger: testServiceLogger("records"),
    interceptors: transfer.recordsInterceptors,
  });
  const fromProvider = serviceCredentialFromEnv({
    ...auth,
    DX_TRANSFER_CLIENT_ID: CLIENT_IDS.transferService,
    DX_TRANSFER_CLIENT_SECRET: DEV_CLIENT_SECRETS[CLIENT_IDS.transferService],
    DX_TRANSFER_TOKEN_RESOURCE: RESOURCES.records,
  });
  const transferServer = await buildTransferServer({
    db: transferDb.db,
    recordsUrl: records.url,
    config: withTestFormatWorkers({}),
    port: transfer.port ?? 0,
    webUi: transfer.webUi,
    auth: {
      verifier: createVerifierFromConfig(loadAuthConfig(auth, { variable: "DX_AUTH_AUDIENCE_TRANSFER", fallback: AUDIENCES.transfer })),
      // The credential exactly as the environment configures it; each token it fetches is recorded for the secrets check.
      serviceCredential: staticCredential(async () => recordSecret("service credential", await fromProvider.token()), fromProvider.description),
    },
    logger: testServiceLogger("transfer"),
  });
  return {
    records,
    transfer: transferServer,
    recordsDb,
    transferDb,
    async close() {
      await transferServer.close();
      await records.close();
      await transferDb.close();
      await recordsDb.close();
    },
  };
}
