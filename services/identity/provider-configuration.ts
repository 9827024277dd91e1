/**
 * The oidc-provider configuration of the development provider: what it
 * issues, to whom, for how long, and the pages it shows.
 *
 * - Access tokens are JWTs (RFC 9068) for one service each, chosen by a
 *   resource indicator (RFC 8707, dev-clients.ts), carrying that service's
 *   audience and a `roles` claim (the account's roles, `pii` included where
 *   granted; a backend's own roles for client credentials), signed with the
 *   active key of signing-keys.ts.
 * - Authorization Code always with PKCE (oidc-provider accepts S256 only),
 *   only the `code` response type, `redirect_uri` always sent and matched
 *   exactly (native clients: any loopback port, RFC 8252).
 * - First-party clients get what they ask for without a consent page: the
 *   grant is made when the person signs in (`loadExistingGrant`).
 * - Refresh tokens for the web UI and the CLI, rotated on every use (public
 *   clients); without `offline_access` they end with the provider session, so
 *   signing out ends them.
 * - No development interactions: the sign-in page is ours
 *   (interaction-routes.ts) and checks passwords.
 */
import { randomBytes } from "node:crypto";
import { errors, type Configuration, type KoaContextWithOIDC } from "oidc-provider";
import { findDevAccount } from "./dev-accounts.js";
import type { MemoryStore } from "./memory-adapter.js";
import { RESOURCES, type DevClient, type ResourceName } from "./dev-clients.js";
import type { IdentityConfig } from "./identity-config.js";
import { PAGE_HEADERS, deviceCodeInputPage, deviceConfirmPage, deviceSuccessPage, errorPage, logoutPage, logoutSuccessPage } from "./pages.js";
import { SIGNING_ALGORITHM, providerJwks, type SigningKeys } from "./signing-keys.js";

/** How long a browser session lasts: a working day. Web refresh tokens end with it. */
export const SESSION_TTL_SECONDS = 8 * 3600;
/** How long an offline (CLI) refresh token lasts. */
export const OFFLINE_REFRESH_TTL_SECONDS = 14 * 24 * 3600;

export interface ProviderSetup {
  config: IdentityConfig;
  clients: readonly DevClient[];
  keys: SigningKeys;
  /** Cookie signing secrets; the same across the provider instances of one server (key rotation swaps instances). */
  cookieKeys: string[];
  /** Sessions, grants, codes and refresh tokens; the same across the provider instances of one server. */
  store: MemoryStore;
}

/** Fresh cookie signing secrets for one process. */
export function newCookieKeys(): string[] {
  return [randomBytes(32).toString("base64url")];
}

const resourceNameOf = (indicator: string): ResourceName | undefined => (Object.keys(RESOURCES) as ResourceName[]).find((name) => RESOURCES[name] === indicator);

function render(ctx: KoaContextWithOIDC, html: string): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) if (name !== "content-type") ctx.set(name, value);
  ctx.type = "html";
  ctx.body = html;
}

/** The oidc-provider configuration for one set of signing keys. */
export function providerConfiguration(setup: ProviderSetup): Configuration {
  const { config, keys } = setup;
  const clientsById = new Map(setup.clients.map((c) => [c.metadata.client_id, c]));
  const clientOf = (clientId: string) => clientsById.get(clientId);
  const ttl = config.accessTokenTtlSeconds;

  return {
    adapter: setup.store.adapter,
    clients: setup.clients.map((c) => c.metadata),
    jwks: providerJwks(keys) as Configuration["jwks"],
    cookies: { keys: setup.cookieKeys },
    responseTypes: ["code"],
    scopes: ["openid", "offline_access", "profile", "email"],
    claims: { openid: ["sub"], profile: ["name", "preferred_username"], email: ["email", "email_verified"] },
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    clientDefaults: { id_token_signed_response_alg: SIGNING_ALGORITHM },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Without a `resource`, a client gets a token for its first service (the web UI and the CLI: transfer).
        defaultResource: (_ctx, client, oneOf) => {
          if (oneOf) return oneOf[0];
          const first = clientOf(client.clientId)?.resources[0];
          return first ? RESOURCES[first] : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          const name = resourceNameOf(indicator);
          if (!name || !clientOf(client.clientId)?.resources.includes(name)) {
            throw new errors.InvalidTarget(`${client.clientId} may not ask for a token for ${indicator}`);
          }
          return { scope: "", audience: config.audiences[name], accessTokenFormat: "jwt", accessTokenTTL: ttl, jwt: { sign: { alg: SIGNING_ALGORITHM, kid: keys.activeKid } } };
        },
      },
      deviceFlow: {
        enabled: true,
        charset: "base-20",
        mask: "****-****",
        userCodeInputSource: (ctx, form, _out, error) => {
          const message = !error
            ? undefined
            : (error as { userCode?: unknown }).userCode || error.name === "NoCodeError"
              ? "That code is not valid. Check it and try again."
              : error.name === "AbortedError"
                ? "The sign-in was cancelled."
                : "The code could not be checked. Start again from your command line.";
          render(ctx, deviceCodeInputPage(form, message));
        },
        userCodeConfirmSource: (ctx, form, client, _deviceInfo, userCode) => render(ctx, deviceConfirmPage(form, client.clientName ?? client.clientId, userCode)),
        successSource: (ctx) => render(ctx, deviceSuccessPage(ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? "Your device")),
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => render(ctx, logoutPage(form)),
        postLogoutSuccessSource: (ctx) => render(ctx, logoutSuccessPage()),
      },
    },
    renderError: (ctx, out) => render(ctx, errorPage(String(out.error), out.error_description === undefined ? undefined : String(out.error_description))),
    // Only a public client (the web UI) calls from a browser: from the origins it redirects to.
    clientBasedCORS: (_ctx, origin, client) => client.clientAuthMethod === "none" && (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const account = findDevAccount(sub);
      if (!account) return undefined;
      return {
        accountId: account.username,
        claims: () => ({ sub: account.username, preferred_username: account.username, name: account.name, email: account.email, email_verified: true }),
      };
    },
    // The roles claim: the account's roles for a person's token, the client's own for client credentials.
    extraTokenClaims: (_ctx, token) => {
      if (token.kind === "ClientCredentials") return { roles: [...(clientOf(token.clientId!)?.roles ?? [])] };
      const accountId = (token as { accountId?: string }).accountId;
      return accountId ? { roles: [...(findDevAccount(accountId)?.roles ?? [])] } : undefined;
    },
    // Public first-party clients get refresh tokens without asking for offline_access (which only the CLI asks for).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    loadExistingGrant: async (ctx) => {
      const { client, session } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const grant = (grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined) ?? new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      // Every registered client is first-party: grant what it asked for (its resources are checked by getResourceServerInfo).
      const scopes = [...((ctx.oidc as unknown as { requestParamOIDCScopes: Set<string> }).requestParamOIDCScopes ?? [])];
      if (scopes.length > 0) grant.addOIDCScope(scopes.join(" "));
      for (const server of Object.values(ctx.oidc.resourceServers ?? {})) grant.addResourceScope(server.identifier(), server.scope ?? "");
      await grant.save();
      return grant;
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl,
      IdToken: ttl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Interaction: 3600,
      Session: SESSION_TTL_SECONDS,
      Grant: OFFLINE_REFRESH_TTL_SECONDS,
      // A rotated web refresh token keeps its predecessor's end: rotation never extends a browser sign-in.
      RefreshToken: (ctx, token, client) => {
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
        if (rotated && client.clientAuthMethod === "none" && !token.isSenderConstrained()) return rotated.remainingTTL;
        return token.scopes.has("offline_access") ? OFFLINE_REFRESH_TTL_SECONDS : SESSION_TTL_SECONDS;
      },
    },
  };
}
