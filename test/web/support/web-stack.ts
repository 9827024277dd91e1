/**
 * The stack the browser tests run against, started the way `npm start`
 * wires it: the development identity provider, and both services trusting it
 * on the run's FerretDB, the transfer service serving the real UI build
 * (dist/web) on a port picked first, because the provider must know the UI's
 * redirect URI before the service listens. The build is brought up to date
 * first (a hash check when nothing changed), so that a test run right after
 * an edit of web/ tests that edit, with or without `npm run setup`.
 */
import { join } from "node:path";
import { ensureWebBuild } from "../../../scripts/build-web.mjs";
import { freePort } from "../../../scripts/lib/ferretdb.js";
import { repositoryRoot } from "../../../services/shared/process/repository-root.js";
import { discover, startTestIdentity, WEB_ORIGIN, webSignIn, type TestIdentity } from "../../identity/identity-harness.js";
import { startServicesTrustingProvider, type ServicesTrustingProvider } from "../../identity/services-trusting-provider.js";
import { TestBrowser } from "../../support/test-browser.js";
import { slowRecordStreams, type SlowRecords } from "../../support/slow-record-streams.js";

export interface WebStack {
  identity: TestIdentity;
  services: ServicesTrustingProvider;
  /** The UI's address, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** Slows the records service's streams down while its delay is set (long exports to watch and cancel). */
  slowRecords: SlowRecords;
  close(): Promise<void>;
}

export async function startWebStack(databases: [records: string, transfer: string]): Promise<WebStack> {
  await ensureWebBuild(repositoryRoot());
  const dir = join(repositoryRoot(), "dist", "web");
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // WEB_ORIGIN too: the harness's HTTP-only sign-ins (seeding) use its redirect URI.
  const identity = await startTestIdentity({ IDENTITY_WEB_ORIGINS: `${origin},${WEB_ORIGIN}` });
  try {
    const slowRecords = slowRecordStreams();
    const services = await startServicesTrustingProvider(identity, databases, {}, { port, webUi: { dir, issuer: identity.issuer }, recordsInterceptors: [slowRecords.interceptor] });
    return {
      identity,
      services,
      slowRecords,
      url: `${origin}/`,
      async close() {
        await services.close();
        await identity.close();
      },
    };
  } catch (error) {
    await identity.close();
    throw error;
  }
}

/** Imports `csv` into `entity` as `username` (signed in over HTTP, as the harness does), for records the UI then shows. */
export async function importAs(stack: WebStack, username: string, entity: string, csv: string): Promise<void> {
  const token = (await webSignIn(await discover(stack.identity.issuer), new TestBrowser(), username)).access_token;
  const form = new FormData();
  form.append("entity", entity);
  form.append("format", "csv");
  form.append("mode", "upsert");
  form.append("file", new Blob([csv], { type: "text/csv" }), `${entity}.csv`);
  const res = await fetch(`${stack.services.transfer.url}/import`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
  const summary = (await res.json()) as { state?: string; failed?: number };
  if (res.status !== 200 || summary.state !== "succeeded" || summary.failed) throw new Error(`seeding ${entity} failed: ${res.status} ${JSON.stringify(summary)}`);
}
