/**
 * The commands of the README, read from its text so that the test running
 * them cannot drift from what a reader pastes: every fenced `sh` block, in
 * order, split into commands (a line, with its `\` continuations), each with
 * the comment lines just above it and the heading it sits under.
 */

export interface ReadmeCommand {
  /** The command as pasted (continuation lines joined by "\n"). */
  text: string;
  /** Comment lines right above it (without `#`), and its own trailing comment. */
  comments: string[];
  /** The `##`/`###` heading the block sits under. */
  heading: string;
  /** 1-based line of the README where the command starts. */
  line: number;
}

/** Every command of every fenced `sh` block, in order. */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split("\n");
  const out: ReadmeCommand[] = [];
  let heading = "";
  let inBlock = false;
  let comments: string[] = [];
  let current: ReadmeCommand | undefined;
  lines.forEach((line, index) => {
    if (!inBlock) {
      const h = /^#{2,3} (.+)$/.exec(line);
      if (h) heading = h[1]!.trim();
      if (/^```sh\s*$/.test(line)) {
        inBlock = true;
        comments = [];
      }
      return;
    }
    if (/^```\s*$/.test(line)) {
      if (current) throw new Error(`README line ${current.line}: a command ends with "\\" at the end of its block`);
      inBlock = false;
      return;
    }
    if (current) {
      current.text += `\n${line}`;
    } else {
      const trimmed = line.trim();
      if (trimmed === "") {
        comments = [];
        return;
      }
      if (trimmed.startsWith("#")) {
        comments.push(trimmed.replace(/^#+\s*/, ""));
        return;
      }
      current = { text: line, comments, heading, line: index + 1 };
      comments = [];
    }
    if (!line.endsWith("\\")) {
      const trailing = /\s#\s+(.*)$/.exec(current.text.split("\n").at(-1)!);
      if (trailing && !/['"]/.test(trailing[1]!)) current.comments = [...current.comments, trailing[1]!];
      out.push(current);
      current = undefined;
    }
  });
  if (inBlock) throw new Error("the README ends inside a code block");
  return out;
}
