/**
 * `dx completion bash`: a bash completion script made from the program
 * itself, so it always lists the commands and options this `dx` has.
 * Entities complete after `describe`, `export` and `--entity`; files after
 * options that take one and for `import`.
 */
import type { Command } from "commander";
import { ENTITY_NAMES } from "../arguments.js";

const FILE_OPTIONS = ["-o", "--output", "--mapping", "--failed-rows", "--ca"];

function flagsOf(command: Command): string[] {
  return command.options.flatMap((o) => [o.short, o.long].filter((f): f is string => Boolean(f)));
}

export function bashCompletion(program: Command): string {
  const commands = program.commands.map((c) => c.name());
  const globals = [...flagsOf(program), "--help"].join(" ");
  const cases = program.commands.map((c) => `    ${c.name()}) opts="${flagsOf(c).join(" ")}" ;;`).join("\n");
  return `# dx bash completion: eval "$(dx completion bash)"
_dx() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  case "$prev" in
    ${FILE_OPTIONS.join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --entity) COMPREPLY=($(compgen -W "${ENTITY_NAMES.join(" ")}" -- "$cur")); return ;;
  esac
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${commands.join(" ")} ${globals}" -- "$cur")); return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts ${globals}" -- "$cur")); return
  fi
  case "$cmd" in
    describe|export) COMPREPLY=($(compgen -W "${ENTITY_NAMES.join(" ")}" -- "$cur")) ;;
    import|bundle-import) COMPREPLY=($(compgen -f -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
  esac
}
complete -o filenames -F _dx dx
`;
}
