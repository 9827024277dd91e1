/**
 * Which format a file is in: `-f` when given, else the format whose file
 * extension the file name has (from the server's ListFormats, so plugins
 * count too). No format and no extension to go by is an error, never a guess.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { extname } from "node:path";
import type { TransferClient } from "./connection.js";
import { usageError } from "./arguments.js";

export interface ChosenFormat {
  format: string;
  /** Options the name implies (`pretty` is JSON with `pretty: true`). */
  options: JsonObject;
}

/** Names that are another format with options, as `GET /export/pretty` has it. */
const ALIASES: Readonly<Record<string, ChosenFormat>> = { pretty: { format: "json", options: { pretty: true } } };

export async function chooseFormat(client: TransferClient, given: string | undefined, fileName: string | undefined, direction: "read" | "write"): Promise<ChosenFormat> {
  if (given !== undefined) {
    const name = given.trim().toLowerCase();
    if (!name) throw usageError("-f is empty");
    if (direction === "write" && Object.hasOwn(ALIASES, name)) return ALIASES[name]!;
    return { format: name, options: {} };
  }
  const { formats } = await client.listFormats({});
  const usable = formats.filter((f) => (direction === "read" ? f.canRead : f.canWrite));
  const names = usable.map((f) => f.name).join(", ");
  const extension = fileName && fileName !== "-" ? extname(fileName).replace(/^\./, "").toLowerCase() : "";
  if (!extension) throw usageError(`say which format with -f (${names})${fileName === "-" || !fileName ? "" : `: ${fileName} has no extension to go by`}`);
  const match = usable.find((f) => f.extensions.some((e) => e.replace(/^\./, "").toLowerCase() === extension));
  if (!match) throw usageError(`no format ${direction === "read" ? "reads" : "writes"} .${extension} files; say which with -f (${names})`);
  return { format: match.name, options: {} };
}
