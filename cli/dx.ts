/**
 * `dx`: the command-line client of the Data Exchange transfer service.
 * Runs a command and exits with its code; any error is one line on stderr
 * (describe-error.ts), never a stack trace.
 */
import { CommanderError } from "commander";
import { serverOf } from "./context.js";
import { describeError } from "./describe-error.js";
import { ExitCode } from "./exit-codes.js";
import { installCtrlC } from "./interrupt.js";
import { buildProgram, type ProgramResult } from "./program.js";

export async function main(argv: string[]): Promise<number> {
  installCtrlC();
  const result: ProgramResult = { exitCode: ExitCode.done };
  const program = buildProgram(result);
  try {
    await program.parseAsync(argv);
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its one line (or the help) already.
      return error.code === "commander.helpDisplayed" || error.code === "commander.help" || error.code === "commander.version" ? ExitCode.done : ExitCode.nothingWritten;
    }
    const described = describeError(error, serverOf(program.opts()));
    if (described.message) process.stderr.write(`dx: ${described.message}\n`);
    return described.exitCode;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`dx: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(ExitCode.nothingWritten);
  },
);
