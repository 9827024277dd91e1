/**
 * Tokens from the running development provider at both services, configured
 * as `npm start` configures them (issuer and `DX_AUTH_JWKS_URL`): a person
 * signed in through the web UI or the command line, a backend by client
 * credentials, and the transfer service's own identity for its records calls
 * by client credentials too. The right roles get through, the rest is
 * refused; the audit trails name the person who signed in; the provider's
 * keys rotate while the services keep answering.
 *
 * Access tokens live 8 s here (10 min by default) and the services allow no
 * clock skew, so that expiry is seen within the test.
 */
import { generateKeyPairSync } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { decodeProtectedHeader, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditAction } from "../../gen/dataexchange/audit/v1/audit_pb.js";
import { Entity, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { CLIENT_IDS, RESOURCES } from "../../services/identity/dev-clients.js";
import { rotateSigningKeys } from "../../services/identity/signing-keys.js";
import type { RunningRecordsServer } from "../../services/records/server.js";
import { AUDIENCES, createVerifierFromConfig, loadAuthConfig } from "../../services/shared/auth/index.js";
import type { RunningTransferServer } from "../../services/transfer/server.js";
import { recordPrivateKey, recordSecret } from "../support/run-secrets.js";
import { TestBrowser } from "../support/test-browser.js";
import { seed, user } from "../transfer/rpc/harness.js";
import { startServicesTrustingProvider } from "./services-trusting-provider.js";
import { cliSignIn, clientCredentialsToken, discover, recordSigningKeys, recordTokenSet, startTestIdentity, webSignIn, type TestIdentity } from "./identity-harness.js";

const TTL = 8;
let identity: TestIdentity;
let records: RunningRecordsServer;
let transfer: RunningTransferServer;
let closeServices: (() => Promise<void>) | undefined;

beforeAll(async () => {
  identity = await startTestIdentity({ IDENTITY_ACCESS_TOKEN_TTL_SECONDS: String(TTL) });
  ({ records, transfer, close: closeServices } = await startServicesTrustingProvider(identity, ["idp_records", "idp_jobs"], { DX_AUTH_CLOCK_SKEW_SECONDS: "0" }));
});
afterAll(async () => {
  await closeServices?.();
  await identity?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const errorOf = async (res: Response) => (await res.json()) as { reason?: string; message?: string };

/** A person's access token for the transfer service, by the web UI's sign-in. */
async function personToken(username: string): Promise<string> {
  return (await webSignIn(await discover(identity.issuer), new TestBrowser(), username)).access_token;
}

function upload(csv: string, fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([csv], { type: "text/csv" }), "courses.csv");
  return form;
}

const transferClient = () => createClient(TransferService, createGrpcTransport({ baseUrl: transfer.url }));
const recordsClient = () => createClient(RecordsService, createGrpcTransport({ baseUrl: records.url }));

describe("a person signed in at the provider", () => {
  it("imports a file; the job, the transfer trail and the records trail name them, with the transfer service as the caller at the records service", async () => {
    const res = await fetch(`${transfer.url}/import`, {
      method: "POST",
      headers: bearer(await personToken("importer")),
      body: upload("code,title\nIDP-1,Signed in\nIDP-2,Through the provider\n", { entity: "courses", format: "csv", mode: "upsert" }),
    });
    const summary = (await res.json()) as { jobId: string; inserted: number; state: string };
    expect([res.status, summary.state, summary.inserted]).toEqual([200, "succeeded", 2]);

    const job = await fetch(`${transfer.url}/jobs/${summary.jobId}`, { headers: bearer(await personToken("importer")) });
    expect(await job.json()).toMatchObject({ subject: "importer" });

    const auditor = bearer(await personToken("auditor"));
    const transferTrail = (await transferClient().listAuditEvents({ filter: { subject: "importer" } }, { headers: auditor })).events;
    expect(transferTrail.map((e) => [e.action, e.subject, e.entity, e.jobId])).toEqual([[AuditAction.IMPORT, "importer", "courses", summary.jobId]]);

    const recordsTrail = (await recordsClient().listAuditEvents({ filter: { subject: "importer" } }, { headers: bearer(await recordsTokenOf("auditor")) })).events;
    expect(recordsTrail.map((e) => [e.subject, e.onBehalfOf, e.entity, e.jobId])).toEqual([["transfer-service", "importer", "courses", summary.jobId]]);
  });

  it("signed in from the command line, gets a token for each service and both accept it with the person's roles", async () => {
    const { tokens } = await cliSignIn(identity.issuer, "admin");
    const forTransfer = recordSecret("token", await tokens.accessToken());
    const forRecords = recordSecret("token", await tokens.accessToken(RESOURCES.records));
    recordTokenSet(tokens);
    expect((await transferClient().listFormats({}, { headers: bearer(forTransfer) })).formats.map((f) => f.name)).toContain("csv");
    const count = await recordsClient().countRecords({ entity: Entity.COURSES }, { headers: bearer(forRecords) });
    expect(count.count).toBeGreaterThanOrEqual(2n);
    // Each token only where it belongs.
    await expect(recordsClient().countRecords({ entity: Entity.COURSES }, { headers: bearer(forTransfer) })).rejects.toThrow(/token audience does not include "dataexchange-records"/);
  });

  it("without pii, exports users without their personal columns, and is refused when naming one", async () => {
    const admin = createClient(
      RecordsService,
      createGrpcTransport({ baseUrl: records.url, interceptors: [(next) => async (req) => (req.header.set("authorization", `Bearer ${adminToken}`), next(req))] }),
    );
    const adminToken = await recordsTokenOf("admin");
    await seed(admin, Entity.USERS, [user(1), user(2)]);
    const token = await personToken("analyst");
    const file = await fetch(`${transfer.url}/export/csv?entity=users`, { headers: bearer(token) });
    const header = (await file.text()).split("\r\n")[0]!;
    expect(file.status).toBe(200);
    expect(header).not.toMatch(/mail|First|Last/i);
    const named = await fetch(`${transfer.url}/export/csv?entity=users&fields=username,email`, { headers: bearer(token) });
    expect(named.status).toBe(403);
    await named.text();
  });
});

/** A person's token for the records service, by the command line's sign-in (the web UI's client may not ask for it). */
async function recordsTokenOf(username: string): Promise<string> {
  const { tokens } = await cliSignIn(identity.issuer, username, { resources: [RESOURCES.records] });
  return recordSecret("token", await tokens.accessToken());
}

describe("a backend with client credentials", () => {
  it("the reporting backend exports from the transfer service and reads the records service, and may do nothing an exporter may not", async () => {
    const forTransfer = (await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.transfer)).access_token;
    const csv = await fetch(`${transfer.url}/export/csv?entity=courses&fields=code`, { headers: bearer(forTransfer) });
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain("IDP-1");
    const refused = await fetch(`${transfer.url}/import`, {
      method: "POST",
      headers: bearer(forTransfer),
      body: upload("code,title\nIDP-9,No\n", { entity: "courses", format: "csv", mode: "upsert" }),
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ message: expect.stringContaining("reporting-backend (roles exporter) may not") });

    const forRecords = (await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.records)).access_token;
    expect((await recordsClient().countRecords({ entity: Entity.COURSES }, { headers: bearer(forRecords) })).count).toBeGreaterThanOrEqual(2n);
    await expect(recordsClient().deleteRecord({ entity: Entity.COURSES, key: { parts: ["IDP-1"] } }, { headers: bearer(forRecords) })).rejects.toThrow(/may not/);
  });

  it("is refused a wrong secret and a service it is not registered for", async () => {
    await expect(clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.transfer, "wrong-secret-value")).rejects.toMatchObject({
      status: 401,
      cause: [expect.objectContaining({ parameters: expect.objectContaining({ error: "invalid_client" }) })],
    });
    await expect(clientCredentialsToken(identity.issuer, CLIENT_IDS.transferService, RESOURCES.transfer)).rejects.toMatchObject({ error: "invalid_target" });
    await expect(clientCredentialsToken(identity.issuer, CLIENT_IDS.transferService, "urn:somewhere:else")).rejects.toMatchObject({ error: "invalid_target" });
  });
});

describe("tokens the services refuse", () => {
  it("a token for the other service, an expired one, and one signed by a key the provider never published", async () => {
    const forRecords = (await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.records)).access_token;
    const wrongAudience = await fetch(`${transfer.url}/export/csv?entity=courses`, { headers: bearer(forRecords) });
    expect([wrongAudience.status, (await errorOf(wrongAudience)).reason]).toEqual([401, "audience"]);

    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    recordPrivateKey(privateKey);
    const now = Math.floor(Date.now() / 1000);
    const unknownKid = recordSecret(
      "token",
      await new SignJWT({ roles: ["admin", "pii"] })
        .setProtectedHeader({ alg: "RS256", typ: "at+jwt", kid: "never-published" })
        .setIssuer(identity.issuer)
        .setAudience("dataexchange-transfer")
        .setSubject("mallory")
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(privateKey),
    );
    const forged = await fetch(`${transfer.url}/export/csv?entity=courses`, { headers: bearer(unknownKid) });
    expect([forged.status, (await errorOf(forged)).message]).toEqual([401, expect.stringContaining('no trusted key matches the token (unknown "kid")')]);

    const soon = (await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.transfer)).access_token;
    await new Promise((r) => setTimeout(r, (TTL + 1) * 1000));
    const expired = await fetch(`${transfer.url}/export/csv?entity=courses`, { headers: bearer(soon) });
    expect([expired.status, (await errorOf(expired)).message]).toEqual([401, expect.stringMatching(/^token expired at /)]);
  });
});

describe("the provider's keys rotate without downtime", () => {
  it("a token signed before the rotation stays valid until it expires, and one signed after is accepted at once", async () => {
    const exportWith = async (token: string) => {
      const res = await fetch(`${transfer.url}/export/csv?entity=courses&fields=code`, { headers: bearer(token) });
      return [res.status, (await res.text()).includes("IDP-1") ? "exported" : "refused"];
    };
    const before = (await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.transfer)).access_token;
    const oldKid = identity.server.keys().activeKid;
    expect(await exportWith(before)).toEqual([200, "exported"]); // the service has just fetched the key set

    const rotated = identity.rotateKeys();
    expect(rotated.activeKid).not.toBe(oldKid);
    expect(rotated.keys.find((k) => k.kid === oldKid)?.state).toBe("retired");
    const after = (await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.transfer)).access_token;
    expect(decodeProtectedHeader(after).kid).toBe(rotated.activeKid);
    // Accepted although the service fetched the key set moments ago and may not fetch again for 30 s: the new key was published before it signed anything.
    expect(await exportWith(after)).toEqual([200, "exported"]);
    expect(await exportWith(before)).toEqual([200, "exported"]);
    // The transfer service's own credential (tokens of the old key, renewed) keeps working throughout.
    await new Promise((r) => setTimeout(r, (TTL + 1) * 1000));
    expect(await exportWith(before)).toEqual([401, "refused"]);
    expect(await exportWith((await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.transfer)).access_token)).toEqual([200, "exported"]);
  });

  it("picks up a rotation another process writes to the key file (npm run identity:rotate-keys) within a second", async () => {
    // A verifier of its own: the services' cached key set predates the previous rotation's new next key, and a
    // second rotation within their cache age (10 min) is what the README says not to do.
    const before = identity.server.keys().activeKid;
    const rotated = rotateSigningKeys(identity.config.keysFile, { retainSeconds: 600 });
    recordSigningKeys(rotated);
    for (let i = 0; i < 50 && identity.server.keys().activeKid === before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(identity.server.keys().activeKid).toBe(rotated.activeKid);
    const token = (await clientCredentialsToken(identity.issuer, CLIENT_IDS.reportingBackend, RESOURCES.transfer)).access_token;
    expect(decodeProtectedHeader(token).kid).toBe(rotated.activeKid);
    const verifier = createVerifierFromConfig(loadAuthConfig({ DX_AUTH_ISSUER: identity.issuer }, { variable: "DX_AUTH_AUDIENCE_TRANSFER", fallback: AUDIENCES.transfer }));
    expect(await verifier.verify(token)).toMatchObject({ subject: CLIENT_IDS.reportingBackend, roles: ["exporter"] });
  });
});
