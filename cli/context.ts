/**
 * What every command that calls the server starts from: the global options
 * resolved once (server, credential, output mode) and a client.
 */
import { connectTransfer, resolveServer, type TransferClient } from "./connection.js";
import { resolveCredential, type Credential } from "./credentials.js";
import { Output } from "./output.js";

/** The options `dx` takes before or after any command. */
export interface GlobalOptions {
  server?: string;
  token?: string;
  ca?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface CommandContext {
  server: string;
  credential: Credential;
  client: TransferClient;
  out: Output;
}

/** The server URL the options name (for error messages before a context exists). */
export function serverOf(options: GlobalOptions): string {
  try {
    return resolveServer(options.server);
  } catch {
    return options.server ?? "the server";
  }
}

export function outputOf(options: GlobalOptions): Output {
  return new Output({ json: options.json === true, quiet: options.quiet === true });
}

export async function commandContext(options: GlobalOptions): Promise<CommandContext> {
  const server = resolveServer(options.server);
  const credential = await resolveCredential(options.token);
  const client = connectTransfer({ server, token: credential.token, ca: options.ca });
  return { server, credential, client, out: outputOf(options) };
}
