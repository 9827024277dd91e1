/**
 * The sign-in page of the development provider: oidc-provider sends the
 * browser to `/interaction/<uid>` when it needs the person to sign in, and
 * these routes show the form, check the password and hand the result back
 * (`interactionFinished`), which redirects the browser on to the client.
 *
 * - `GET /interaction/<uid>`: the form; or, for a consent prompt, nothing
 *   to show when the person has just typed their password or confirmed a
 *   device code (every client here is first-party), and otherwise a one-click
 *   confirmation. oidc-provider asks for consent each time a native client
 *   (the CLI) signs in, because another program on the machine could start a
 *   sign-in with the CLI's client id: with a session already open in the
 *   browser, that sign-in would otherwise finish without the person seeing it.
 * - `POST /interaction/<uid>/confirm`: that confirmation.
 * - `POST /interaction/<uid>/login`: `username` and `password`, urlencoded.
 *   A wrong pair shows the form again with 401 and the same message whichever
 *   was wrong; the password is never echoed or logged.
 * - `POST /interaction/<uid>/abort`: the client gets `access_denied`.
 *
 * The interaction is bound to the browser by oidc-provider's `_interaction`
 * cookie, which `interactionDetails` checks, and the uid in the path must be
 * the cookie's: a form posted from another page or another browser is
 * refused. Any form field other than those two is refused too (400).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type Provider from "oidc-provider";
import { errors } from "oidc-provider";
import { authenticateDevAccount } from "./dev-accounts.js";
import { confirmPage, errorPage, loginPage, sendPage } from "./pages.js";

/** The largest sign-in form body read. */
export const MAX_FORM_BYTES = 4096;

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|abort|confirm))?$/;

/** Thrown for a request the routes refuse, with the status and the message the page shows. */
class RefusedRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A plain HTTP handler for `/interaction/…`; resolves false for other paths.
 * `provider` is called per request: key rotation swaps the provider instance.
 */
export function createInteractionHandler(provider: () => Provider, logger: Logger): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const match = ROUTE.exec(path);
    if (!match) return false;
    const [, uid, action] = match;
    const current = provider();
    try {
      const expectedMethod = action ? "POST" : "GET";
      if (req.method !== expectedMethod) throw new RefusedRequest(405, `${req.method} is not allowed here`);
      const details = await current.interactionDetails(req, res);
      if (details.uid !== uid) throw new RefusedRequest(400, "This sign-in page does not belong to the sign-in in progress in this browser. Start again from your application.");
      const clientId = String(details.params.client_id ?? "");
      const client = await current.Client.find(clientId);
      const clientName = client?.clientName ?? clientId;
      const pageOptions = { action: `/interaction/${uid}/login`, abortAction: `/interaction/${uid}/abort`, clientName };
      const accountId = details.session?.accountId;

      if (action === "abort") {
        await readForm(req, []);
        logger.info({ client_id: clientId, interaction: "abort" }, "sign-in cancelled");
        await current.interactionFinished(req, res, { error: "access_denied", error_description: "the person cancelled the sign-in" }, { mergeWithLastSubmission: false });
        return true;
      }
      if (action === "login") {
        if (details.prompt.name !== "login") throw new RefusedRequest(400, "This sign-in does not need a password. Start again from your application.");
        const form = await readForm(req, ["username", "password"]);
        const username = form.get("username")?.trim() ?? "";
        const account = authenticateDevAccount(username, form.get("password") ?? "");
        if (!account) {
          logger.info({ client_id: clientId, username, interaction: "login", outcome: "refused" }, "sign-in refused: wrong username or password");
          sendPage(res, 401, loginPage({ ...pageOptions, username, error: "Wrong username or password." }));
          return true;
        }
        logger.info({ client_id: clientId, username: account.username, interaction: "login", outcome: "signed_in" }, "signed in");
        await current.interactionFinished(req, res, { login: { accountId: account.username, amr: ["pwd"] } }, { mergeWithLastSubmission: false });
        return true;
      }
      if (details.prompt.name === "login") {
        sendPage(res, 200, loginPage({ ...pageOptions, username: typeof details.params.login_hint === "string" ? details.params.login_hint : undefined }));
        return true;
      }
      if (details.prompt.name !== "consent" || !accountId) throw new RefusedRequest(400, `This sign-in asks for "${details.prompt.name}", which the development provider does not handle.`);
      if (action === "confirm") await readForm(req, []);
      // The person has just proven who they are (password) or which sign-in this is (the device code): nothing more to ask.
      const justSignedIn = details.lastSubmission?.login !== undefined || details.params.response_type === undefined;
      if (action === "confirm" || justSignedIn) {
        const grantId = await grantWhatIsAsked(current, details, accountId);
        logger.info({ client_id: clientId, username: accountId, interaction: "consent", outcome: "granted", confirmed: action === "confirm" }, "sign-in confirmed");
        await current.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return true;
      }
      sendPage(res, 200, confirmPage({ action: `/interaction/${uid}/confirm`, abortAction: pageOptions.abortAction, clientName, username: accountId }));
      return true;
    } catch (error) {
      if (res.headersSent) throw error;
      if (error instanceof RefusedRequest) {
        sendPage(res, error.status, errorPage(error.message));
      } else if (error instanceof errors.SessionNotFound) {
        sendPage(res, 400, errorPage("This sign-in page has expired or was opened in another browser.", "Start the sign-in again from your application."));
      } else {
        logger.error({ err: error }, "sign-in page failed");
        sendPage(res, 500, errorPage("The sign-in failed on the provider's side.", "Try again; the provider's log says why."));
      }
      return true;
    }
  };
}

/**
 * The grant of a first-party client: what it asked for (OIDC scopes and
 * claims, each service's scopes) added to the grant it has, if any.
 */
async function grantWhatIsAsked(provider: Provider, details: Awaited<ReturnType<Provider["interactionDetails"]>>, accountId: string): Promise<string> {
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(" "));
  return grant.save();
}

/** Reads an urlencoded form of at most {@link MAX_FORM_BYTES}, refusing fields not in `allowed`. */
async function readForm(req: IncomingMessage, allowed: readonly string[]): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new RefusedRequest(415, "The form must be sent as application/x-www-form-urlencoded.");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new RefusedRequest(413, "The form is too large.");
    chunks.push(chunk);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
  const unknown = [...new Set(form.keys())].filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new RefusedRequest(400, `The form has fields this page does not take: ${unknown.join(", ")} (it takes ${allowed.join(", ") || "none"}).`);
  for (const key of allowed) if (form.getAll(key).length > 1) throw new RefusedRequest(400, `The form has "${key}" more than once.`);
  return form;
}
