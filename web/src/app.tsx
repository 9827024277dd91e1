/**
 * The app: signs in (or completes a sign-in at /auth/callback), then shows
 * the header with who is signed in and their roles, the navigation that
 * their roles allow, and the page of the URL's fragment.
 */
import { useEffect, useMemo, useState } from "react";
import { createTransferClient } from "./api/transfer-client.js";
import { AppContext, useApp, type AppContextValue } from "./app-context.js";
import { capabilitiesOf } from "./auth/capabilities.js";
import { CALLBACK_PATH, completeSignIn, loadWebConfig, signOut, startSignIn, type Session, type WebConfig } from "./auth/oidc.js";
import { SessionStore } from "./auth/session-store.js";
import { AuditPage } from "./audit/audit-page.js";
import { ExportPage } from "./export/export-page.js";
import { ImportPage } from "./import/import-page.js";
import { JobDetail } from "./jobs/job-detail.js";
import { JobsPage } from "./jobs/jobs-page.js";
import { messageOf } from "./ui/errors.js";
import { useHashRoute, type Route } from "./ui/use-hash-route.js";

type Boot = { state: "loading" } | { state: "ready"; store: SessionStore } | { state: "failed"; error: string; config?: WebConfig };

export function App() {
  const [boot, setBoot] = useState<Boot>({ state: "loading" });
  useEffect(() => {
    void (async () => {
      let config: WebConfig | undefined;
      try {
        config = await loadWebConfig();
        const store = new SessionStore(config);
        if (window.location.pathname === CALLBACK_PATH) {
          const { session, back } = await completeSignIn(config, new URL(window.location.href));
          // The code and state leave the address bar (and the history).
          window.history.replaceState(null, "", `/${back}`);
          store.set(session);
        }
        setBoot({ state: "ready", store });
      } catch (error) {
        if (window.location.pathname === CALLBACK_PATH) window.history.replaceState(null, "", "/");
        setBoot({ state: "failed", error: messageOf(error), config });
      }
    })();
  }, []);
  if (boot.state === "loading") return <p className="muted center">Loading…</p>;
  if (boot.state === "failed") return <SignInScreen config={boot.config} error={boot.error} />;
  return <SignedInOrNot store={boot.store} />;
}

function SignedInOrNot({ store }: { store: SessionStore }) {
  const [session, setSession] = useState<Session | undefined>(store.session);
  useEffect(() => store.subscribe(setSession), [store]);
  const client = useMemo(() => createTransferClient(() => store.accessToken()), [store]);
  const value = useMemo<AppContextValue | undefined>(
    () => (session ? { session, capabilities: capabilitiesOf(session.roles), client, accessToken: () => store.accessToken() } : undefined),
    [session, client, store],
  );
  if (!value) return <SignInScreen config={store.config} />;
  return (
    <AppContext.Provider value={value}>
      <Shell onSignOut={() => void signOut(store.config, store.session)} />
    </AppContext.Provider>
  );
}

function SignInScreen({ config, error }: { config?: WebConfig; error?: string }) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState(error);
  const signIn = async () => {
    if (!config) return;
    setBusy(true);
    try {
      await startSignIn(config);
    } catch (e) {
      setFailure(messageOf(e));
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>Data Exchange</h1>
      <p>Export and import LMS records: users, courses, sessions, enrollments, activity.</p>
      {failure && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
      {config?.issuer ? (
        <button type="button" onClick={() => void signIn()} disabled={busy}>
          Sign in
        </button>
      ) : config ? (
        <p className="note">Sign-in is not configured on this transfer service (no identity provider).</p>
      ) : null}
    </main>
  );
}

function Shell({ onSignOut }: { onSignOut(): void }) {
  const { session, capabilities } = useApp();
  const route = useHashRoute();
  return (
    <>
      <header className="top">
        <span className="brand">Data Exchange</span>
        <nav aria-label="Pages">
          <a href="#/export" aria-current={route.page === "export" ? "page" : undefined}>
            Export
          </a>
          {capabilities.import && (
            <a href="#/import" aria-current={route.page === "import" ? "page" : undefined}>
              Import
            </a>
          )}
          <a href="#/jobs" aria-current={route.page === "jobs" || route.page === "job" ? "page" : undefined}>
            Jobs
          </a>
          {capabilities.audit && (
            <a href="#/audit" aria-current={route.page === "audit" ? "page" : undefined}>
              Audit
            </a>
          )}
        </nav>
        <span className="who">
          <span data-testid="user-name">{session.name}</span>{" "}
          <ul className="roles" aria-label="Roles">
            {session.roles.map((r) => (
              <li key={r} className="role">
                {r}
              </li>
            ))}
          </ul>
        </span>
        <button type="button" className="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "export":
      return <ExportPage />;
    case "jobs":
      return <JobsPage />;
    case "job":
      return <JobDetail id={route.id} />;
    case "import":
      return <ImportPage />;
    case "audit":
      return <AuditPage />;
    case "unknown":
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing here at <code>{route.path}</code>. <a href="#/export">Go to Export</a>.
          </p>
        </section>
      );
  }
}
