/**
 * Commands the tool prints for the user to run (doctor's fixes, warnings' "run: …" advice, --help and README
 * examples), built as argv arrays and quoted for a POSIX shell in this one place, so that what is printed is
 * exactly what a test runs. Pure.
 *
 * A value the tool cannot know (a registry username, the image to use) is a shell variable the user sets
 * (`"$REGISTRY_USERNAME"`), never an `<placeholder>` that the shell would read as a redirection; a password is
 * read from stdin (`--docker-password-stdin`), and the rendered line says so.
 */

/**
 * One argument: literal text; a shell variable the user sets before running the command (after a literal `prefix`:
 * `app="$IMAGE"`); or a path under the user's home directory, left to the shell's tilde expansion (`~/.docker/config.json`).
 */
export type ShellArg = string | {variable: string; prefix?: string} | {home: string};

/** A command line: argv, optionally fed on stdin by another command (`A | B`). */
export type ShellCommand = {
  argv: ShellArg[];
  /** A command whose output is piped into this one. */
  pipeFrom?: ShellCommand;
  /** The command reads a password on stdin (`--docker-password-stdin`) and nothing pipes it in. */
  readsPasswordFromStdin?: boolean;
};

/** Characters that need no quoting in a POSIX shell word. */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument quoted for a POSIX shell: as is when safe, else in single quotes; a variable as `"$NAME"`. */
export function quoteArg(arg: ShellArg): string {
  if (typeof arg !== `string`) {
    if (`home` in arg)
      return `~/${quoteArg(arg.home)}`;
    return `${arg.prefix === undefined || arg.prefix === `` ? `` : quoteArg(arg.prefix)}"$${arg.variable}"`;
  }
  if (SAFE.test(arg))
    return arg;
  return `'${arg.replaceAll(`'`, `'\\''`)}'`;
}

/** The command as one shell line (`A | B`), without comments. */
export function shellLine(command: ShellCommand): string {
  const own = command.argv.map(quoteArg).join(` `);
  return command.pipeFrom === undefined ? own : `${shellLine(command.pipeFrom)} | ${own}`;
}

/** The shell variables a command (and what pipes into it) reads, in order of appearance. */
export function variablesOf(command: ShellCommand): string[] {
  const names = [...(command.pipeFrom ? variablesOf(command.pipeFrom) : []), ...command.argv.flatMap(arg => (typeof arg === `string` || `home` in arg ? [] : [arg.variable]))];
  return [...new Set(names)];
}

/**
 * The command as printed: the shell line, then a `#` comment naming what the user must provide (variables to set,
 * a password on stdin) and `why`, when given. A shell ignores the comment, so the whole line runs as printed.
 */
export function renderCommand(command: ShellCommand, why?: string): string {
  const needs: string[] = [];
  const variables = variablesOf(command);
  if (variables.length > 0)
    needs.push(`set ${variables.join(` and `)} first`);
  if (command.readsPasswordFromStdin)
    needs.push(`reads the password from stdin`);
  const comment = [...needs, ...(why === undefined ? [] : [why])].join(`; `);
  return comment === `` ? shellLine(command) : `${shellLine(command)}  # ${comment}`;
}

/** `kubectl ARGS…` */
export function kubectl(...args: ShellArg[]): ShellCommand {
  return {argv: [`kubectl`, ...args]};
}

/** `kubectl pullsecret ARGS…`; a command with `--docker-password-stdin` is marked as reading the password from stdin. */
export function pullsecret(...args: ShellArg[]): ShellCommand {
  return {argv: [`kubectl`, `pullsecret`, ...args], ...(args.includes(`--docker-password-stdin`) ? {readsPasswordFromStdin: true} : {})};
}

/** `command`, fed by `source` on stdin: the password comes from the pipe, so it is not asked for. */
export function piped(source: ShellCommand, command: ShellCommand): ShellCommand {
  return {argv: command.argv, pipeFrom: source};
}

/**
 * A --help (and README) example: `args` after the program, quoted here like every printed command, with the shell
 * text around it when the example pipes or redirects (`before`: `echo "$TOKEN" | `, `after`: ` | kubectl apply -f -`).
 */
export function helpExample(description: string, args: ShellArg[], around: {before?: string; after?: string} = {}): [string, string] {
  return [description, `${around.before ?? ``}$0 ${args.map(quoteArg).join(` `)}${around.after ?? ``}`];
}
