/**
 * A person signs in from a command line with no browser on its machine (an
 * SSH session, a container): the OAuth 2.0 Device Authorization Grant
 * (RFC 8628). The command shows a short code and an address; the person opens
 * the address on any device, signs in and confirms the code; the command
 * polls the token endpoint meanwhile, at the interval the provider asks for
 * (slower after `slow_down`), until the person finishes, refuses, or the code
 * expires.
 */
import * as oauth from "oauth4webapi";
import { describeOAuthError, discoverAuthorizationServer, issuerUrl, requestOptions } from "./authorization-server.js";
import { DEFAULT_SIGN_IN_SCOPE, type PersonSignInOptions } from "./loopback-sign-in.js";
import { TokenSet } from "./token-set.js";

/** What the person must be told. */
export interface DeviceSignInPrompt {
  /** Where to go. */
  verificationUri: string;
  /** The same with the code filled in, when the provider gives one (a link or a QR code). */
  verificationUriComplete?: string;
  /** The code to confirm there. */
  userCode: string;
  /** Seconds before the code expires. */
  expiresIn: number;
}

export interface DeviceSignInOptions extends PersonSignInOptions {
  /** Shows the person the address and the code. */
  onPrompt: (prompt: DeviceSignInPrompt) => void | Promise<void>;
}

/** Signs a person in with the device authorization grant; resolves with their tokens. */
export async function signInWithDevice(options: DeviceSignInOptions): Promise<TokenSet> {
  const as = await discoverAuthorizationServer(options.issuer);
  const client: oauth.Client = { client_id: options.clientId };
  const http = requestOptions(issuerUrl(options.issuer));
  const parameters = new URLSearchParams({ scope: options.scope ?? DEFAULT_SIGN_IN_SCOPE });
  for (const resource of options.resources ?? []) parameters.append("resource", resource);
  let started: oauth.DeviceAuthorizationResponse;
  try {
    started = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, oauth.None(), parameters, http));
  } catch (error) {
    throw new Error(`the identity provider refused to start a device sign-in: ${describeOAuthError(error)}`, { cause: error });
  }
  await options.onPrompt({ verificationUri: started.verification_uri, verificationUriComplete: started.verification_uri_complete, userCode: started.user_code, expiresIn: started.expires_in });

  const deadline = Date.now() + Math.min(started.expires_in * 1000, options.timeoutMs ?? Number.POSITIVE_INFINITY);
  let interval = (started.interval ?? 5) * 1000;
  for (;;) {
    await sleep(interval, options.signal);
    if (Date.now() > deadline) throw new Error("the device sign-in expired before it was completed: start again");
    try {
      const response = await oauth.deviceCodeGrantRequest(as, client, oauth.None(), started.device_code, http);
      const result = await oauth.processDeviceCodeResponse(as, client, response);
      return new TokenSet({
        issuer: options.issuer,
        clientId: options.clientId,
        as,
        resource: options.resources?.[0],
        response: result,
        subject: result.id_token ? oauth.getValidatedIdTokenClaims(result)?.sub : undefined,
      });
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError) {
        if (error.error === "authorization_pending") continue;
        if (error.error === "slow_down") {
          interval += 5_000;
          continue;
        }
        if (error.error === "access_denied") throw new Error("the device sign-in was refused at the provider", { cause: error });
        if (error.error === "expired_token") throw new Error("the device sign-in expired before it was completed: start again", { cause: error });
      }
      throw new Error(`the device sign-in failed: ${describeOAuthError(error)}`, { cause: error });
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("the sign-in was cancelled"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("the sign-in was cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
