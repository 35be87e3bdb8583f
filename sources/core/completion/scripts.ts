/**
 * Completion scripts for running the binary directly as `kubectl-pullsecret` (through kubectl,
 * `kubectl pullsecret <TAB>` is completed by kubectl's own script calling `kubectl_complete-pullsecret`).
 * Each script asks `kubectl-pullsecret __complete <words…> <current>` and reads the directive line.
 */

/** The shells `completion` supports. */
export const SHELLS = [`bash`, `zsh`, `fish`] as const;
export type Shell = (typeof SHELLS)[number];

/** The script for `shell`, calling `program` (the binary's name on PATH). */
export function completionScript(shell: Shell, program: string): string {
  const fn = `_${program.replace(/[^A-Za-z0-9]/g, `_`)}_complete`;
  switch (shell) {
    case `bash`:
      return bashScript(fn, program);
    case `zsh`:
      return zshScript(fn, program);
    case `fish`:
      return fishScript(fn, program);
  }
}

function bashScript(fn: string, program: string): string {
  return `# bash completion for ${program}; load with: source <(${program} completion bash)
${fn}() {
  local line="\${COMP_LINE:0:COMP_POINT}" cur="" out directive candidate
  local -a words
  # Split the line ourselves: bash's COMP_WORDS also breaks words at '=' and ':'.
  read -r -a words <<< "$line"
  if [[ -n "$line" && "$line" != *[[:space:]] ]]; then
    cur="\${words[\${#words[@]}-1]}"
    unset 'words[\${#words[@]}-1]'
  fi
  out=$("${program}" __complete "\${words[@]:1}" "$cur" 2>/dev/null) || return
  directive="\${out##*:}"
  [[ "$directive" =~ ^[0-9]+$ ]] || directive=0
  out="\${out%:*}"
  COMPREPLY=()
  (( directive & 1 )) && return
  # bash replaces only the part of the word after the last '=' or ':'.
  local breakpart="\${COMP_WORDS[COMP_CWORD]}" keep
  keep="\${cur%"$breakpart"}"
  local IFS=$'\\n'
  for candidate in $out; do
    candidate="\${candidate%%$'\\t'*}"
    [[ -n "$candidate" && "$candidate" == "$cur"* ]] && COMPREPLY+=("\${candidate#"$keep"}")
  done
  (( directive & 2 )) && compopt -o nospace 2>/dev/null
  if (( \${#COMPREPLY[@]} == 0 && !(directive & 4) )); then
    compopt -o default 2>/dev/null
  fi
  return 0
}
complete -F ${fn} ${program}
`;
}

function zshScript(fn: string, program: string): string {
  return `#compdef ${program}
# zsh completion for ${program}; load with: source <(${program} completion zsh)
${fn}() {
  local out directive line value desc
  local -a lines candidates
  out=$(${program} __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive=\${lines[-1]#:}
  [[ "$directive" == <-> ]] || directive=0
  lines=("\${(@)lines[1,-2]}")
  (( directive & 1 )) && return 1
  for line in $lines; do
    [[ -z "$line" ]] && continue
    value=\${line%%$'\\t'*}
    if [[ "$line" == *$'\\t'* ]]; then desc=\${line#*$'\\t'}; else desc=""; fi
    candidates+=("\${value//:/\\\\:}\${desc:+:$desc}")
  done
  if (( \${#candidates} )); then
    if (( directive & 2 )); then _describe -t values 'values' candidates -S ''; else _describe -t values 'values' candidates; fi
  elif (( !(directive & 4) )); then
    _files
  fi
}
if [[ "$funcstack[1]" == "_${program.replace(/[^A-Za-z0-9]/g, `_`)}" ]]; then ${fn} "$@"; else compdef ${fn} ${program}; fi
`;
}

function fishScript(fn: string, program: string): string {
  return `# fish completion for ${program}; load with: ${program} completion fish | source
function ${fn}
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l out (${program} __complete $words[2..-1] $current 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or set directive 0
    set -e out[-1]
    if test (math "bitand($directive, 1)") -ne 0
        return
    end
    if test (count $out) -gt 0
        printf '%s\\n' $out
    else if test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path $current
    end
end
complete -c ${program} -f -a '(${fn})'
`;
}
