/**
 * Tokens for a backend's own identity (OAuth 2.0 client credentials): the
 * transfer service calling the records service, a reporting backend calling
 * the transfer service.
 *
 * A token is fetched on first use, kept in memory, and fetched again once
 * less than a fifth of its lifetime (at least 30 s) is left, so a call never
 * leaves with a token about to expire; calls that arrive while a token is
 * being fetched share that fetch. Which service the token is for is said the
 * way the provider expects: a resource indicator (RFC 8707: the development
 * provider, Keycloak 26+), a scope (`api://<app>/.default` for Entra ID), or
 * both.
 */
import * as oauth from "oauth4webapi";
import { describeOAuthError, discoverAuthorizationServer, issuerUrl, requestOptions } from "./authorization-server.js";

export interface ClientCredentialsOptions {
  /** The provider's issuer URL (discovery finds the token endpoint). */
  issuer: string;
  clientId: string;
  /** The secret, or a function reading it (from a file, re-read on each fetch). */
  clientSecret: string | (() => Promise<string>);
  /** Resource indicator of the service the token is for. */
  resource?: string;
  /** Scopes, space-separated. */
  scope?: string;
  /** How the secret is sent; default `client_secret_basic`. */
  authMethod?: "client_secret_basic" | "client_secret_post";
}

/** A source of bearer tokens: the shape the transfer service's records credential has. */
export interface TokenSource {
  token(): Promise<string>;
  /** Where tokens come from, for logs (never a secret). */
  readonly description: string;
}

/** Tokens by client credentials, cached and renewed before they expire. */
export function clientCredentialsTokenSource(options: ClientCredentialsOptions): TokenSource {
  const issuer = issuerUrl(options.issuer);
  const client: oauth.Client = { client_id: options.clientId };
  let current: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const as = await discoverAuthorizationServer(options.issuer);
    const secret = typeof options.clientSecret === "string" ? options.clientSecret : await options.clientSecret();
    const auth = options.authMethod === "client_secret_post" ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
    const parameters = new URLSearchParams();
    if (options.resource) parameters.set("resource", options.resource);
    if (options.scope) parameters.set("scope", options.scope);
    let result: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.clientCredentialsGrantRequest(as, client, auth, parameters, requestOptions(issuer));
      result = await oauth.processClientCredentialsResponse(as, client, response);
    } catch (error) {
      throw new Error(`the identity provider ${options.issuer} refused client credentials for ${options.clientId}: ${describeOAuthError(error)}`, { cause: error });
    }
    const lifetime = typeof result.expires_in === "number" && result.expires_in > 0 ? result.expires_in : 300;
    const margin = Math.max(30, Math.floor(lifetime / 5));
    current = { token: result.access_token, renewAt: Date.now() + Math.max(1, lifetime - margin) * 1000 };
    return result.access_token;
  }

  const target = [options.resource && `resource ${options.resource}`, options.scope && `scope ${options.scope}`].filter(Boolean).join(", ");
  return {
    description: `client credentials of ${options.clientId} at ${options.issuer}${target ? ` (${target})` : ""}`,
    token() {
      if (current && Date.now() < current.renewAt) return Promise.resolve(current.token);
      pending ??= fetchToken().finally(() => (pending = undefined));
      return pending;
    },
  };
}
