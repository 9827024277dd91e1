/**
 * Authentication and authorization building blocks both services use:
 * token verification, the principal and its context key, the RPC
 * interceptor, the plain-HTTP guard, configuration and development keys.
 */
export { AuthError, authErrorToConnect, bearerChallenge, type AuthFailureReason } from "./auth-error.js";
export { ASYMMETRIC_ALGORITHMS, DEFAULT_ALGORITHMS, algorithmsForKey, discoveredKeySet, loadKeyFile, remoteKeySet, type TrustedKey } from "./key-source.js";
export { DEFAULT_CLOCK_SKEW_SECONDS, bearerToken, createTokenVerifier, type TokenVerifier, type TokenVerifierOptions, type TrustAnchor, type VerifiedToken } from "./token-verifier.js";
export { DATAEXCHANGE_ROLES, claimAt, parseRoleMap, parseRolesClaim, rolesOf, type RoleMap, type RoleSource } from "./role-mapping.js";
export {
  ON_BEHALF_OF_HEADER,
  ON_BEHALF_ROLES_HEADER,
  ForwardedIdentityError,
  actingSubject,
  hasPermission,
  onBehalfOfHeaders,
  permissionsOf,
  principalKey,
  principalOf,
  resolvePrincipal,
  type AccessPolicy,
  type ForwardedUser,
  type Principal,
} from "./principal.js";
export { authenticate, createAuthInterceptor, type AuthInterceptorOptions, type CallRule, type ReflectionAccess } from "./rpc-auth-interceptor.js";
export { authenticateHttp, requireHttpAuth, requireHttpPermission, type HttpAuthOptions, type HttpAuthResult } from "./http-auth.js";
export { createVerifierFromConfig, describeAuthConfig, isDevMode, loadAuthConfig, trustedKeyOf, trustsDevKey, type AuthConfig } from "./auth-config.js";
export { AUDIENCES, DEV_ALGORITHM, DEV_ISSUER, devKeysDir, ensureDevKeys, signDevToken, type DevKeys, type DevTokenOptions } from "./dev-keys.js";
