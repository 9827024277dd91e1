/**
 * The clients the development provider knows, all first-party (no consent
 * page), and the resources (the two services) each may get tokens for.
 *
 * - `dataexchange-web`: the web UI, a public client in the browser —
 *   Authorization Code with PKCE (S256), redirect back to the transfer
 *   service's origin, refresh tokens that rotate on every use and end with
 *   the provider session (sign-out ends them).
 * - `dataexchange-cli`: `dx login`, a native public client — Authorization
 *   Code with PKCE through a loopback redirect (any port, RFC 8252 §7.3) or
 *   the device authorization grant (RFC 8628); refresh tokens that rotate
 *   and outlive the browser session when it asks for `offline_access`.
 * - `transfer-service`: the transfer service's own identity for its calls to
 *   the records service (client credentials, role `service`).
 * - `reporting-backend`: a sample backend (client credentials, role
 *   `exporter` only — no personal data).
 *
 * Resource indicators (RFC 8707) name the two services; a token asked for one
 * of them carries that service's audience (`aud`), so a token for one service
 * is refused by the other.
 */
import type { ClientMetadata } from "oidc-provider";

/** The resource indicator of each service. */
export const RESOURCES = { records: "urn:dataexchange:records", transfer: "urn:dataexchange:transfer" } as const;
export type ResourceName = keyof typeof RESOURCES;

/** The client ids. */
export const CLIENT_IDS = { web: "dataexchange-web", cli: "dataexchange-cli", transferService: "transfer-service", reportingBackend: "reporting-backend" } as const;

/** Secrets of the confidential development clients (README: Sign-in). */
export const DEV_CLIENT_SECRETS = { [CLIENT_IDS.transferService]: "transfer-service-dev-secret", [CLIENT_IDS.reportingBackend]: "reporting-backend-dev-secret" } as const;

/** The loopback redirect the CLI registers; the provider accepts it on any port. */
export const CLI_REDIRECT_URI = "http://127.0.0.1/callback";

/** The device authorization grant's grant type. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export interface DevClient {
  metadata: ClientMetadata;
  /** Resources it may get tokens for. */
  resources: readonly ResourceName[];
  /** Roles of its own tokens (client credentials); users' tokens carry the user's roles. */
  roles?: readonly string[];
}

/** The web UI's redirect URI on one origin of the transfer service. */
export const webRedirectUri = (origin: string) => `${origin}/auth/callback`;

/** Every development client, for the transfer service's origins `webOrigins`. */
export function devClients(webOrigins: readonly string[]): DevClient[] {
  return [
    {
      metadata: {
        client_id: CLIENT_IDS.web,
        client_name: "Data Exchange web UI",
        application_type: "web",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: webOrigins.map(webRedirectUri),
        post_logout_redirect_uris: webOrigins.map((origin) => `${origin}/`),
      },
      resources: ["transfer"],
    },
    {
      metadata: {
        client_id: CLIENT_IDS.cli,
        client_name: "dx command line",
        application_type: "native",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token", DEVICE_CODE_GRANT],
        response_types: ["code"],
        redirect_uris: [CLI_REDIRECT_URI],
        post_logout_redirect_uris: [CLI_REDIRECT_URI],
      },
      resources: ["transfer", "records"],
    },
    {
      metadata: {
        client_id: CLIENT_IDS.transferService,
        client_name: "transfer service",
        client_secret: DEV_CLIENT_SECRETS[CLIENT_IDS.transferService],
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
      },
      resources: ["records"],
      roles: ["service"],
    },
    {
      metadata: {
        client_id: CLIENT_IDS.reportingBackend,
        client_name: "reporting backend (sample)",
        client_secret: DEV_CLIENT_SECRETS[CLIENT_IDS.reportingBackend],
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
      },
      resources: ["transfer", "records"],
      roles: ["exporter"],
    },
  ];
}
