/**
 * Both services in-process with authentication on, as main() runs them: the
 * records service trusting tokens for `dataexchange-records`, the transfer
 * service trusting tokens for `dataexchange-transfer` and calling the records
 * service with its own service credential (role `service`), forwarding the
 * user. Keys are made here, in memory; tokens are minted per test.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RecordsService } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../../services/records/server.js";
import { ensureIndexes } from "../../../services/records/store/collections.js";
import type { TransferConfigInput } from "../../../services/transfer/config/transfer-config.js";
import { buildTransferServer, type RunningTransferServer } from "../../../services/transfer/server.js";
import { staticCredential } from "../../../services/transfer/records/service-credential.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";
import { recordSecret } from "../../support/run-secrets.js";
import { testServiceLogger } from "../../support/service-logger.js";
import { withTestFormatWorkers } from "../../support/format-workers.js";
import { RECORDS_AUDIENCE, TRANSFER_AUDIENCE, edKeys, token, verifierFor, type TokenOptions } from "../../auth/support.js";
import type { RecordsClient, TransferClient } from "../rpc/harness.js";

export const keys = edKeys();

export interface AuthServices {
  records: RunningRecordsServer;
  transfer: RunningTransferServer;
  recordsDb: TestDatabase;
  transferDb: TestDatabase;
  /** Connect client (gRPC protocol) of the transfer service. */
  client: TransferClient;
  /** Connect client of the records service (tests pass a records-audience token). */
  recordsClient: RecordsClient;
  close(): Promise<void>;
}

/** A user's token for the transfer service. */
export function transferToken(roles: string[], sub = "alice", options: TokenOptions = {}): Promise<string> {
  return token(keys, { roles, sub, aud: TRANSFER_AUDIENCE, ...options });
}

/** A token for the records service. */
export function recordsToken(roles: string[], sub = "alice", options: TokenOptions = {}): Promise<string> {
  return token(keys, { roles, sub, aud: RECORDS_AUDIENCE, ...options });
}

/** `{ authorization: "Bearer …" }` for the transfer service. */
export async function as(roles: string[], sub = "alice"): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await transferToken(roles, sub)}` };
}

/** `{ authorization: "Bearer …" }` for the records service. */
export async function asAtRecords(roles: string[], sub = "seeder"): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await recordsToken(roles, sub)}` };
}

export async function startAuthServices(config: TransferConfigInput = {}): Promise<AuthServices> {
  const recordsDb = await openTestDatabase("tra_records");
  const transferDb = await openTestDatabase("tra_jobs");
  await ensureIndexes(recordsDb.db);
  // Both log as in production, into the run's capture only (checked for secrets at the end of the run).
  const records = await buildRecordsServer({ db: recordsDb.db, port: 0, auth: { verifier: verifierFor(keys, RECORDS_AUDIENCE) }, logger: testServiceLogger("records") });
  const transfer = await buildTransferServer({
    db: transferDb.db,
    recordsUrl: records.url,
    config: withTestFormatWorkers(config),
    port: 0,
    auth: {
      verifier: verifierFor(keys, TRANSFER_AUDIENCE),
      serviceCredential: staticCredential(
        async () => recordSecret("service credential", await token(keys, { roles: ["service"], sub: "transfer-service", aud: RECORDS_AUDIENCE })),
        "test service token",
      ),
    },
    logger: testServiceLogger("transfer"),
  });
  return {
    records,
    transfer,
    recordsDb,
    transferDb,
    client: createClient(TransferService, createGrpcTransport({ baseUrl: transfer.url })),
    recordsClient: createClient(RecordsService, createGrpcTransport({ baseUrl: records.url })),
    async close() {
      await transfer.close();
      await records.close();
      await transferDb.close();
      await recordsDb.close();
    },
  };
}

/** A records client that always sends an admin token with pii (for seeding and checking the records directly). */
export function adminRecordsClient(url: string): RecordsClient {
  return createClient(
    RecordsService,
    createGrpcTransport({
      baseUrl: url,
      interceptors: [
        (next) => async (req) => {
          req.header.set("authorization", `Bearer ${await recordsToken(["admin", "pii"], "seeder")}`);
          return next(req);
        },
      ],
    }),
  );
}
