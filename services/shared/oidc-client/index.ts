/**
 * Getting tokens from an OpenID Connect provider, for the clients of the two
 * services: a backend's own identity (client credentials), and a person
 * signing in from a command line (Authorization Code + PKCE through a
 * loopback redirect, or the device authorization grant), with refresh. Built
 * on oauth4webapi; the development provider (services/identity) and any
 * production provider found by its issuer URL alike.
 */
export { describeOAuthError, discoverAuthorizationServer, isLoopbackUrl, issuerUrl, type AuthorizationServer } from "./authorization-server.js";
export { clientCredentialsTokenSource, type ClientCredentialsOptions, type TokenSource } from "./client-credentials.js";
export { DEFAULT_SIGN_IN_SCOPE, signInWithBrowser, type LoopbackSignInOptions, type PersonSignInOptions } from "./loopback-sign-in.js";
export { signInWithDevice, type DeviceSignInOptions, type DeviceSignInPrompt } from "./device-sign-in.js";
export { MIN_TOKEN_LIFE_SECONDS, SignInRequiredError, TokenSet } from "./token-set.js";
