/**
 * The HTML pages a person sees at the development provider: sign-in, the
 * device code pages, sign-out and errors. One layout, no scripts, no outside
 * resources (fonts, images), and headers that keep the pages out of frames
 * (clickjacking a sign-in form) and out of caches.
 *
 * Every value that comes from a request or a client registration is escaped
 * with {@link escapeHtml}; the `form` strings oidc-provider hands over are its
 * own markup (hidden `xsrf` fields) and are inserted as they are.
 */
import type { ServerResponse } from "node:http";

/** Headers of every page: no framing, no caching, no scripts, no referrer carrying codes or state. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const style = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:48px 16px;color:#1d2330}
main{max-width:360px;margin:0 auto;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);padding:24px 32px}
h1{font-size:1.3em;margin:0 0 4px}p.sub{color:#5a6172;margin:0 0 20px}p.error{color:#b00020;font-weight:600}
label{display:block;font-size:.9em;margin:12px 0 4px}input[type=text],input[type=password]{width:100%;box-sizing:border-box;height:40px;font-size:1em;padding:0 8px;border:1px solid #b8bcc6;border-radius:4px}
button{width:100%;height:40px;margin-top:20px;font-size:1em;border:0;border-radius:4px;background:#2357d9;color:#fff;cursor:pointer}
button.secondary{background:none;color:#5a6172;margin-top:8px;height:auto}code{font-size:1.6em;letter-spacing:.1em}
footer{max-width:360px;margin:12px auto;color:#5a6172;font-size:.8em;text-align:center}`;

/** A whole page: the title, the body markup, and the development notice. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Data Exchange</title><style>${style}</style></head>
<body><main>${body}</main><footer>Data Exchange development sign-in. Development accounts only.</footer></body>
</html>`;
}

/** Sends a page with {@link PAGE_HEADERS}. */
export function sendPage(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...PAGE_HEADERS, "content-length": Buffer.byteLength(html) });
  res.end(html);
}

export interface LoginPageOptions {
  /** Where the form posts. */
  action: string;
  /** Where "Cancel" posts (the client gets `access_denied`). */
  abortAction: string;
  /** The client's display name. */
  clientName: string;
  /** Refilled after a failed attempt; never the password. */
  username?: string;
  error?: string;
}

/** The sign-in form. */
export function loginPage(options: LoginPageOptions): string {
  return page(
    "Sign in",
    `<h1>Sign in</h1><p class="sub">to continue to ${escapeHtml(options.clientName)}</p>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ""}
<form id="sign-in" method="post" action="${escapeHtml(options.action)}" autocomplete="off">
<label for="username">Username</label><input id="username" type="text" name="username" value="${escapeHtml(options.username ?? "")}" autofocus required>
<label for="password">Password</label><input id="password" type="password" name="password" required>
<button type="submit">Sign in</button>
</form>
<form id="cancel" method="post" action="${escapeHtml(options.abortAction)}"><button class="secondary" type="submit">Cancel</button></form>`,
  );
}

export interface ConfirmPageOptions {
  action: string;
  abortAction: string;
  clientName: string;
  username: string;
}

/** "Continue as …?": a native client's sign-in when the person is signed in already and typed nothing. */
export function confirmPage(options: ConfirmPageOptions): string {
  return page(
    "Continue",
    `<h1>Continue as ${escapeHtml(options.username)}?</h1><p class="sub">${escapeHtml(options.clientName)} asks to sign in with your account. Continue only if you started this.</p>
<form id="confirm" method="post" action="${escapeHtml(options.action)}"><button type="submit">Continue</button></form>
<form id="cancel" method="post" action="${escapeHtml(options.abortAction)}"><button class="secondary" type="submit">Cancel</button></form>`,
  );
}

/** The device flow's code entry page; `form` is oidc-provider's (its id is `op.deviceInputForm`). */
export function deviceCodeInputPage(form: string, error?: string): string {
  return page(
    "Connect a device",
    `<h1>Connect a device</h1><p class="sub">Enter the code your command line shows.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

/** The device flow's confirmation page; `form` is oidc-provider's (its id is `op.deviceConfirmForm`). */
export function deviceConfirmPage(form: string, clientName: string, userCode: string): string {
  return page(
    "Confirm the device",
    `<h1>Confirm the device</h1><p class="sub">${escapeHtml(clientName)} asks to sign in. Continue only if your command line shows this code:</p>
<p><code>${escapeHtml(userCode)}</code></p>${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button class="secondary" type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`,
  );
}

/** Shown once a device is signed in. */
export function deviceSuccessPage(clientName: string): string {
  return page("Device signed in", `<h1>Signed in</h1><p class="sub">${escapeHtml(clientName)} is signed in. You can close this page.</p>`);
}

/** The sign-out confirmation; `form` is oidc-provider's (its id is `op.logoutForm`). */
export function logoutPage(form: string): string {
  return page(
    "Sign out",
    `<h1>Sign out</h1><p class="sub">Sign out of Data Exchange on this browser?</p>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button class="secondary" type="submit" form="op.logoutForm">Stay signed in</button>`,
  );
}

/** Shown after a sign-out with no place to return to. */
export function logoutSuccessPage(): string {
  return page("Signed out", `<h1>Signed out</h1><p class="sub">You are signed out. You can close this page.</p>`);
}

/** An error the provider shows instead of redirecting (a bad client or redirect URI, an expired page). */
export function errorPage(error: string, description?: string): string {
  return page("Sign-in error", `<h1>Sign-in failed</h1><p class="error" role="alert">${escapeHtml(error)}</p>${description ? `<p>${escapeHtml(description)}</p>` : ""}`);
}
