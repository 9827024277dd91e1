/**
 * The Connect interceptor that authenticates and authorizes every RPC of a
 * service: bearer token → verified claims → principal (with forwarded user,
 * when a service calls) → the service's access rule for the method, checked
 * on every request message (a bidi WriteRecords stream is checked batch by
 * batch, since each batch names its own entity).
 *
 * Health is always public (load balancers and orchestrators probe it without
 * credentials); reflection is public by default (listing methods is common in
 * development and reveals only the schema, which is in the repository anyway)
 * and can require a token. A method without a rule is denied: new RPCs are
 * closed until someone decides who may call them.
 */
import { Code, ConnectError, type Interceptor, type StreamRequest } from "@connectrpc/connect";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflectionV1Alpha } from "../rpc/reflection-routes.js";
import { AuthError, authErrorToConnect } from "./auth-error.js";
import { ForwardedIdentityError, principalKey, resolvePrincipal, type AccessPolicy, type Principal } from "./principal.js";
import { bearerToken, type TokenVerifier } from "./token-verifier.js";

/**
 * Decides one request message: undefined to allow it, or the reason it is
 * denied (becomes PERMISSION_DENIED).
 */
export type CallRule = (message: unknown, principal: Principal) => string | undefined;

/** Whether reflection needs a token: `public` (default) or `authenticated` (any valid token). */
export type ReflectionAccess = "public" | "authenticated";

export interface AuthInterceptorOptions {
  verifier: TokenVerifier;
  policy: AccessPolicy;
  /** One rule per method, keyed `package.Service/Method`. */
  rules: Readonly<Record<string, CallRule>>;
  reflection?: ReflectionAccess;
  /** Services callable without a token; default grpc.health.v1.Health only. */
  publicServices?: readonly string[];
}

const REFLECTION_SERVICES = new Set([ServerReflection.typeName, ServerReflectionV1Alpha.typeName]);

export function createAuthInterceptor(options: AuthInterceptorOptions): Interceptor {
  const publicServices = new Set(options.publicServices ?? [Health.typeName]);
  const reflection = options.reflection ?? "public";
  return (next) => async (req) => {
    const service = req.service.typeName;
    if (publicServices.has(service)) return next(req);
    const isReflection = REFLECTION_SERVICES.has(service);
    if (isReflection && reflection === "public") return next(req);

    const principal = await authenticate(req.header, options);
    req.contextValues.set(principalKey, principal);
    if (isReflection) return next(req);

    const path = `${service}/${req.method.name}`;
    const rule = options.rules[path];
    if (!rule) throw new ConnectError(`permission denied: no access rule for ${path}, so it is closed to every caller`, Code.PermissionDenied);
    if (!req.stream) {
      check(rule, req.message, principal);
      return next(req);
    }
    const checked: StreamRequest = { ...req, message: checkEach(req.message, rule, principal) };
    return next(checked);
  };
}

/** Verifies the request's bearer token and resolves the principal; throws the ConnectError to send. */
export async function authenticate(header: Headers, options: Pick<AuthInterceptorOptions, "verifier" | "policy">): Promise<Principal> {
  try {
    const token = bearerToken(header.get("authorization"));
    const verified = await options.verifier.verify(token);
    return resolvePrincipal(verified, (name) => header.get(name), options.policy);
  } catch (error) {
    if (error instanceof AuthError) throw authErrorToConnect(error);
    if (error instanceof ForwardedIdentityError) throw new ConnectError(error.message, Code.InvalidArgument, undefined, undefined, error);
    throw error;
  }
}

function check(rule: CallRule, message: unknown, principal: Principal): void {
  const denied = rule(message, principal);
  if (denied !== undefined) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
}

async function* checkEach(messages: AsyncIterable<unknown>, rule: CallRule, principal: Principal): AsyncGenerator<never> {
  for await (const message of messages) {
    check(rule, message, principal);
    yield message as never;
  }
}
