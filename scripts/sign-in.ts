/**
 * `npm run -s sign-in -- [--aud transfer|records] [--device] [--issuer URL] [--client-id ID]`
 *
 * A person signs in at the identity provider and gets an access token, for
 * scripts and `curl` until the `dx` CLI exists (it will use the same module,
 * services/shared/oidc-client). By default through the browser (Authorization
 * Code + PKCE, redirect back to 127.0.0.1 on a free port): the address to
 * open is printed on stderr. `--device` uses the device authorization grant
 * instead (a code to confirm on any device: an SSH session, a container).
 *
 * The access token alone goes to stdout, so it can be captured:
 *   TOKEN=$(npm run -s sign-in)                 # for the transfer service
 *   TOKEN=$(npm run -s sign-in -- --aud records)
 * Nothing is written to disk; the token lives as long as the provider says
 * (10 minutes with the development provider).
 *
 * Issuer: --issuer, else DX_AUTH_ISSUER when it is a URL, else the development
 * provider `npm start` runs (http://127.0.0.1:$IDENTITY_PORT, 9000).
 */
import { parseArgs } from "node:util";
import { CLIENT_IDS, RESOURCES } from "../services/identity/dev-clients.js";
import { signInWithBrowser, signInWithDevice, type TokenSet } from "../services/shared/oidc-client/index.js";

const usage = `usage: npm run -s sign-in -- [--aud transfer|records|<resource>] [--device] [--issuer URL] [--client-id ID] [--scope SCOPES]
prints an access token on stdout; the sign-in address on stderr`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      aud: { type: "string", default: "transfer" },
      device: { type: "boolean", default: false },
      issuer: { type: "string" },
      "client-id": { type: "string", default: CLIENT_IDS.cli },
      scope: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const issuer =
    values.issuer ??
    (/^https?:\/\//.test(process.env.DX_AUTH_ISSUER ?? "")
      ? process.env.DX_AUTH_ISSUER!.split(",")[0]!.trim()
      : `http://${process.env.IDENTITY_HOST ?? "127.0.0.1"}:${process.env.IDENTITY_PORT ?? 9000}`);
  const resource = values.aud in RESOURCES ? RESOURCES[values.aud as keyof typeof RESOURCES] : values.aud;
  const common = { issuer, clientId: values["client-id"], resources: [resource], ...(values.scope ? { scope: values.scope } : {}) };
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  let tokens: TokenSet;
  if (values.device) {
    tokens = await signInWithDevice({
      ...common,
      onPrompt: (p) =>
        say(
          `To sign in, open ${p.verificationUriComplete ?? p.verificationUri} on any device${p.verificationUriComplete ? "" : ` and enter the code ${p.userCode}`} (the page shows ${p.userCode}; it expires in ${Math.round(p.expiresIn / 60)} minutes).`,
        ),
    });
  } else {
    tokens = await signInWithBrowser({ ...common, openBrowser: (url) => say(`To sign in, open this address in your browser:\n\n  ${url.href}\n`) });
  }
  const token = await tokens.accessToken();
  say(`signed in as ${tokens.subject ?? "?"} at ${issuer}; token for ${resource}`);
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`sign-in failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
