/**
 * Finding an identity provider from its issuer URL alone (OpenID Connect
 * Discovery), with oauth4webapi, which checks that the document names the
 * same issuer it was fetched for (a mismatch would let one provider speak for
 * another).
 *
 * Plain http is accepted only for loopback issuers (the development provider
 * on 127.0.0.1); anything else must be https, so a token or a client secret
 * never crosses a network in clear by a configuration slip.
 */
import * as oauth from "oauth4webapi";

export type AuthorizationServer = oauth.AuthorizationServer;

/** True for http(s) URLs on 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The options every oauth4webapi request of this module gets: http allowed
 * for a loopback issuer only, and a time limit.
 */
export function requestOptions(issuer: URL, timeoutMs = 10_000): { [oauth.allowInsecureRequests]?: boolean; signal: () => AbortSignal } {
  return { ...(issuer.protocol === "http:" && isLoopbackUrl(issuer) ? { [oauth.allowInsecureRequests]: true } : {}), signal: () => AbortSignal.timeout(timeoutMs) };
}

/** Parses and checks an issuer URL: https, or http on a loopback address. */
export function issuerUrl(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`the issuer ${JSON.stringify(issuer)} is not a URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackUrl(url))) {
    throw new Error(`the issuer ${issuer} must be https (plain http only on a loopback address)`);
  }
  return url;
}

const cache = new Map<string, Promise<AuthorizationServer>>();

/**
 * The provider's metadata from `<issuer>/.well-known/openid-configuration`,
 * cached per issuer for the process; a failed discovery is not cached, so the
 * next call tries again.
 */
export function discoverAuthorizationServer(issuer: string): Promise<AuthorizationServer> {
  // Issuer identifiers compare exactly (".../realms/lms/" is not ".../realms/lms").
  const key = issuer;
  let pending = cache.get(key);
  if (!pending) {
    const url = issuerUrl(issuer);
    pending = (async () => {
      const response = await oauth.discoveryRequest(url, { algorithm: "oidc", ...requestOptions(url) });
      return oauth.processDiscoveryResponse(url, response);
    })();
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending.catch((error: unknown) => {
    throw new Error(`the identity provider at ${issuer} could not be discovered: ${describeOAuthError(error)}`, { cause: error });
  });
}

/**
 * A one-line reason for an oauth4webapi failure: the provider's OAuth error
 * code and description when it sent one, else the error's message. Never a
 * token: oauth4webapi errors carry the response, not the request.
 */
export function describeOAuthError(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
    return error.error_description ? `${error.error}: ${error.error_description}` : error.error;
  }
  // A 401 from the token endpoint (a wrong client secret) comes as a WWW-Authenticate challenge.
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const challenge = error.cause[0]?.parameters;
    if (challenge?.error) return challenge.error_description ? `${challenge.error}: ${challenge.error_description}` : challenge.error;
    return `HTTP ${error.status}`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
