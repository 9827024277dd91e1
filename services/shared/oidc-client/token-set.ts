/**
 * What a person's sign-in yields, kept in memory: an access token per
 * service, the ID token (who signed in; needed to sign out of the provider),
 * and the refresh token, which the provider rotates on every use.
 *
 * `accessToken(resource)` hands out a token with at least 30 s to live,
 * refreshing when it has none for that service or it is about to expire, so
 * a client holds one sign-in and asks for tokens for either service (the
 * refresh request names the resource; RFC 8707). A refresh the provider
 * refuses (the refresh token expired, was revoked, or the session it belongs
 * to ended) is an error saying to sign in again.
 *
 * Nothing here is written anywhere: a CLI that keeps the refresh token
 * between runs decides where (a file readable by its owner only, or the OS
 * keychain) and passes it back to {@link TokenSet.fromRefreshToken}.
 */
import * as oauth from "oauth4webapi";
import { describeOAuthError, discoverAuthorizationServer, issuerUrl, requestOptions, type AuthorizationServer } from "./authorization-server.js";

/** Seconds of life an access token must have left to be handed out. */
export const MIN_TOKEN_LIFE_SECONDS = 30;

/** The refresh was refused: the person must sign in again. */
export class SignInRequiredError extends Error {
  override name = "SignInRequiredError";
}

interface HeldToken {
  token: string;
  expiresAt: number;
}

export interface TokenSetInit {
  issuer: string;
  clientId: string;
  as: AuthorizationServer;
  /** The resource the first access token is for. */
  resource?: string;
  response: oauth.TokenEndpointResponse;
  /** The ID token's `sub`, when the response had one. */
  subject?: string;
}

/** A person's tokens from one sign-in. */
export class TokenSet {
  readonly issuer: string;
  readonly clientId: string;
  /** The signed-in subject, from the ID token (undefined for a refresh-only set until it refreshes). */
  subject: string | undefined;
  /** The resource `accessToken()` means without an argument: the first one asked for. */
  readonly defaultResource: string;
  private readonly as: AuthorizationServer;
  private readonly client: oauth.Client;
  private readonly accessTokens = new Map<string, HeldToken>();
  private refresh?: string;
  private id?: string;
  private refreshing?: Promise<string>;

  constructor(init: TokenSetInit) {
    this.issuer = init.issuer;
    this.clientId = init.clientId;
    this.as = init.as;
    this.client = { client_id: init.clientId };
    this.subject = init.subject;
    this.defaultResource = init.resource ?? "";
    this.take(init.response, this.defaultResource);
  }

  /** A set holding only a refresh token kept from an earlier sign-in. */
  static async fromRefreshToken(options: { issuer: string; clientId: string; refreshToken: string; resource?: string }): Promise<TokenSet> {
    const as = await discoverAuthorizationServer(options.issuer);
    const set = new TokenSet({ issuer: options.issuer, clientId: options.clientId, as, resource: options.resource, response: { access_token: "", token_type: "bearer", expires_in: 0 } });
    set.accessTokens.clear();
    set.refresh = options.refreshToken;
    return set;
  }

  /** The current refresh token (it changes on every refresh), for a CLI that keeps it between runs. */
  get refreshToken(): string | undefined {
    return this.refresh;
  }

  /** The ID token: the `id_token_hint` of a sign-out. */
  get idToken(): string | undefined {
    return this.id;
  }

  /** An access token for `resource` (default: the first one asked for) with at least 30 s to live. */
  accessToken(resource = this.defaultResource): Promise<string> {
    const held = this.accessTokens.get(resource);
    if (held && held.expiresAt - Date.now() > MIN_TOKEN_LIFE_SECONDS * 1000) return Promise.resolve(held.token);
    // One refresh at a time: the provider rotates the refresh token, so two at once would use the old one twice.
    const run = (this.refreshing ?? Promise.resolve("")).catch(() => "").then(() => this.refreshFor(resource));
    this.refreshing = run;
    return run;
  }

  /** Revokes the refresh token at the provider (signing out of this client); forgets every token. */
  async revoke(): Promise<void> {
    const token = this.refresh;
    this.refresh = undefined;
    this.accessTokens.clear();
    if (!token || !this.as.revocation_endpoint) return;
    const url = issuerUrl(this.issuer);
    const response = await oauth.revocationRequest(this.as, this.client, oauth.None(), token, { ...requestOptions(url), additionalParameters: { token_type_hint: "refresh_token" } });
    await oauth.processRevocationResponse(response);
  }

  /**
   * The provider's sign-out URL for a browser (RP-initiated logout): ends the
   * provider session, and with it every refresh token bound to it.
   */
  endSessionUrl(postLogoutRedirectUri?: string): URL | undefined {
    if (!this.as.end_session_endpoint) return undefined;
    const url = new URL(this.as.end_session_endpoint);
    url.searchParams.set("client_id", this.clientId);
    if (this.id) url.searchParams.set("id_token_hint", this.id);
    if (postLogoutRedirectUri) url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri);
    return url;
  }

  private async refreshFor(resource: string): Promise<string> {
    const held = this.accessTokens.get(resource);
    if (held && held.expiresAt - Date.now() > MIN_TOKEN_LIFE_SECONDS * 1000) return held.token;
    if (!this.refresh) throw new SignInRequiredError(`no refresh token: sign in again to get a token${resource ? ` for ${resource}` : ""}`);
    let response: oauth.TokenEndpointResponse;
    try {
      const url = issuerUrl(this.issuer);
      const request = await oauth.refreshTokenGrantRequest(this.as, this.client, oauth.None(), this.refresh, {
        ...requestOptions(url),
        ...(resource ? { additionalParameters: { resource } } : {}),
      });
      response = await oauth.processRefreshTokenResponse(this.as, this.client, request);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === "invalid_grant") {
        this.refresh = undefined;
        throw new SignInRequiredError(`the sign-in has ended (${describeOAuthError(error)}): sign in again`, { cause: error });
      }
      throw new Error(`refreshing the sign-in failed: ${describeOAuthError(error)}`, { cause: error });
    }
    return this.take(response, resource);
  }

  private take(response: oauth.TokenEndpointResponse, resource: string): string {
    if (response.refresh_token) this.refresh = response.refresh_token;
    if (response.id_token) this.id = response.id_token;
    const claims = response.id_token ? oauth.getValidatedIdTokenClaims(response) : undefined;
    if (claims?.sub) this.subject = claims.sub;
    const lifetime = typeof response.expires_in === "number" ? response.expires_in : 0;
    if (response.access_token) this.accessTokens.set(resource, { token: response.access_token, expiresAt: Date.now() + lifetime * 1000 });
    return response.access_token;
  }
}
