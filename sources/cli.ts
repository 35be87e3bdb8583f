import {Builtins, Cli} from 'clipanion';
import type {CommandClass} from 'clipanion';
import type {PullSecretContext} from './context.ts';
import {ExitCode, oneLine} from './core/errors.ts';
import {SecretRedactor} from './core/redact.ts';
import {redactingStream} from './adapters/output/redactingStream.ts';
import {VERSION} from './version.ts';
import {parseGrammar} from './core/grammar.ts';
import {grammarOf} from './commands/grammar.ts';
import {processDirectly} from './commands/directParse.ts';
import {COMMAND_TABLE, loadAllCommands} from './commands/table.ts';
import type {CommandEntry} from './commands/table.ts';
import {BUILT_OVERVIEW, asksForOverview} from './overview.ts';

/** Builds the clipanion CLI; colours only when stdout is a TTY and NO_COLOR is unset. */
export function buildCli(context: Pick<PullSecretContext, `env` | `stdout`>, commands: Array<CommandClass<PullSecretContext>>): Cli<PullSecretContext> {
  const cli = new Cli<PullSecretContext>({
    binaryLabel: `kubectl pullsecret`,
    binaryName: `kubectl pullsecret`,
    binaryVersion: VERSION,
    enableColors: Boolean(context.stdout.isTTY) && context.env.NO_COLOR === undefined && context.env.TERM !== `dumb`,
  });
  cli.register(Builtins.HelpCommand);
  for (const command of commands)
    cli.register(command);
  reuseCompiledParser(cli, commands);
  // clipanion names a flag's value `#0`; pflag (and so kubectl's usage lines) says `string`.
  const usage = cli.usage.bind(cli);
  cli.usage = (...args: Parameters<typeof usage>) => withValueNames(usage(...args));
  return cli;
}

/** clipanion's `#0` value placeholders in usage text, as pflag names them, with the option table re-aligned. */
export function withValueNames(text: string): string {
  const lines = text.split(`\n`);
  // Option rows: two spaces, the flag names (and value), two or more spaces, the description.
  const rows = lines.map(line => /^ {2}(-\S.*?) {2,}(\S.*)$/.exec(line));
  const names = rows.map(row => row === null ? `` : row[1]!.replace(/ #\d+\b/g, ` string`));
  const width = Math.max(0, ...names.map(name => name.length));
  return lines.map((line, index) => {
    const row = rows[index];
    return row === null || row === undefined ? line.replace(/ #\d+\b/g, ` string`) : `  ${names[index]!.padEnd(width)}  ${row[2]}`;
  }).join(`\n`);
}

/** Compiled clipanion parsers by the set of commands they were compiled for. */
const compiledParsers = new Map<string, unknown>();
/** A number per command class, for the keys of compiledParsers. */
const commandIds = new WeakMap<object, number>();
let lastCommandId = 0;

/**
 * clipanion compiles its parser, a state machine over every option of the registered commands, on
 * each `process()`; for `add` (26 options) that and the garbage it leaves are about 6 ms. The compiled
 * parser depends only on the registered commands (buildCli's other settings are fixed or only colour the
 * output) and parsing never modifies it, so a process that parses several command lines (the tests, the
 * code-cache warm-up) compiles it once per set of commands. clipanion 3 offers no public hook for this, so
 * the private `builder` is wrapped; without it clipanion compiles as usual.
 */
function reuseCompiledParser(cli: Cli<PullSecretContext>, commands: Array<CommandClass<PullSecretContext>>): void {
  const builder = (cli as unknown as {builder?: {compile?: () => unknown}}).builder;
  if (typeof builder?.compile !== `function`)
    return;
  const key = commands.map(command => {
    let id = commandIds.get(command);
    if (id === undefined) {
      id = ++lastCommandId;
      commandIds.set(command, id);
    }
    return id;
  }).join(`,`);
  const compile = builder.compile.bind(builder);
  builder.compile = () => {
    let parser = compiledParsers.get(key);
    if (parser === undefined) {
      parser = compile();
      compiledParsers.set(key, parser);
    }
    return parser;
  };
}

/** Global flags that take a value, so that their value is not mistaken for a command name (`-n add list`). */
const VALUE_FLAGS = new Set([`-n`, `--namespace`, `--context`, `--kubeconfig`, `--request-timeout`, `-o`, `--output`]);

/**
 * The commands that the arguments can name, found without loading any command (commands/table.ts): the first
 * word that is not a flag (or a flag's value) must be a command's first path segment. Null when no word names
 * a command (no arguments, `--help`, a typo): then every command is loaded and registered.
 * clipanion compiles one state machine over all registered commands on the first parse, and every command
 * loaded costs its modules' evaluation: together more start-up time than anything else before the real work.
 */
export function commandsNamedBy(argv: string[]): CommandEntry[] | null {
  const byFirstSegment = (word: string) => COMMAND_TABLE.filter(entry => entry.words.includes(word));
  if (argv[0] !== undefined && argv[0].startsWith(`--`) && byFirstSegment(argv[0]).length > 0)
    return byFirstSegment(argv[0]);
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index]!;
    if (word === `--`)
      return null;
    if (word.startsWith(`-`)) {
      if (VALUE_FLAGS.has(word))
        index++;
      continue;
    }
    const named = byFirstSegment(word);
    // Completion lists every command, so it needs all of them registered.
    if (named.some(entry => entry.words.includes(`__complete`)))
      return null;
    // A command that runs another one through `this.cli.run` (rotate --verify) names it in the table's `invokes`.
    const invoked = named.flatMap(entry => (entry.invokes ?? []).flatMap(byFirstSegment));
    return named.length > 0 ? [...named, ...invoked] : null;
  }
  return null;
}

/** The kubectl-style overview printed for `kubectl pullsecret`, `-h` and `--help`, from the commands' usages. */
export function renderOverview(commands: Array<CommandClass<PullSecretContext>>): string {
  const listed = commands.filter(command => command.usage !== undefined && command.paths?.[0]?.[0] !== undefined && !command.paths[0][0].startsWith(`-`));
  const width = Math.max(...listed.map(command => command.paths![0]!.join(` `).length));
  const lines = listed.map(command => `  ${command.paths![0]!.join(` `).padEnd(width)}   ${command.usage!.description ?? ``}`);
  return [
    `kubectl pullsecret makes private-registry image pulls just work: pull secrets created, attached, copied,`,
    `rotated and audited without clobbering, and every image proven pullable before a release.`,
    ``,
    `Available Commands:`,
    ...lines,
    ``,
    `Usage:`,
    `  kubectl pullsecret <command> [flags] [options]`,
    ``,
    `Use "kubectl pullsecret <command> --help" for more information about a command.`,
    ``,
  ].join(`\n`);
}

/** The overview: rendered by the build into the binary (so that `--help` loads no command), else from the loaded commands. */
export async function overview(): Promise<string> {
  return BUILT_OVERVIEW ?? renderOverview(await loadAllCommands());
}

/**
 * Runs the plugin with the given arguments. Parse errors go to stderr as one `error:` line (exit 2);
 * execution errors are handled by BaseCommand; `--help` prints usage on stdout.
 */
export async function runPullSecret(argv: string[], given: PullSecretContext): Promise<number> {
  const context = withRedaction(given);
  if (asksForOverview(argv)) {
    context.stdout.write(await overview());
    return ExitCode.ok;
  }
  // `kubectl pullsecret help COMMAND` is `COMMAND --help`, as with kubectl.
  if (argv[0] === `help`)
    argv = [...argv.slice(1), `--help`];
  const entries = commandsNamedBy(argv);
  const named = entries === null ? null : await Promise.all(entries.map(entry => entry.load()));
  // kubectl's flag grammar first (core/grammar.ts): its error lines, and an argv clipanion reads unambiguously.
  const grammar = named === null ? null : grammarOf(named[0]!);
  if (grammar !== null) {
    const parsed = parseGrammar(argv, grammar);
    if (`error` in parsed) {
      context.stderr.write(`error: ${oneLine(parsed.error)}\nSee 'kubectl pullsecret ${grammar.path.join(` `)} --help' for usage.\n`);
      return ExitCode.usage;
    }
    argv = parsed.argv;
  }
  let all = named === null ? await loadAllCommands() : undefined;
  let cli = buildCli(context, named ?? all!);
  // The usual line of one command is built from the grammar's reading, without compiling clipanion's parser.
  let command = grammar !== null && named !== null && named.length === 1 ? processDirectly(cli, named[0]!, grammar, argv, context) : undefined;
  if (command === undefined) {
    try {
      command = cli.process(argv, context);
    } catch (error) {
      // The error message of a parser that knows every command is the helpful one ("did you mean").
      if (named !== null) {
        all = await loadAllCommands();
        cli = buildCli(context, all);
        try {
          command = cli.process(argv, context);
        } catch (fullError) {
          error = fullError;
        }
      }
      if (command === undefined) {
        const path = named?.[0]?.paths?.[0]?.join(` `);
        context.stderr.write(`error: ${describeParseError(error, argv, all!)}\nSee 'kubectl pullsecret ${path ? `${path} ` : ``}--help' for usage.\n`);
        return ExitCode.usage;
      }
    }
  }
  return cli.run(command, context);
}

/**
 * The one place every output path goes through: a per-run `SecretRedactor` that the cluster sessions, the
 * registry probe and the credential helpers feed with the secret values they handle, and stdout and stderr
 * wrapped so that every write is redacted against it (output the user asks to hold secrets uses `revealed`).
 */
export function withRedaction(context: PullSecretContext): PullSecretContext {
  if (context.redactor !== undefined)
    return context;
  const redactor = new SecretRedactor();
  return {
    ...context,
    redactor,
    stdout: redactingStream(context.stdout, redactor),
    stderr: redactingStream(context.stderr, redactor),
    connectCluster: target => context.connectCluster({...target, redactor}),
    makeRegistryProbe: options => context.makeRegistryProbe({...options, redactor}),
    runPasswordCommand: async (command, options) => {
      const password = await context.runPasswordCommand(command, options);
      redactor.add(password);
      return password;
    },
    runCredentialHelper: async (helper, serverUrl, env) => {
      const answer = await context.runCredentialHelper(helper, serverUrl, env);
      if (answer !== null)
        redactor.addCredential(answer.Username, answer.Secret);
      return answer;
    },
  };
}

/** The first meaningful line of clipanion's parse error, without its multi-line candidate listing. */
function describeParseError(error: unknown, argv: string[], commands: Array<CommandClass<PullSecretContext>>): string {
  if (!(error instanceof Error))
    return String(error);
  const firstLine = error.message.split(`\n`).find(line => line.trim() !== ``) ?? error.message;
  if (error.name === `UnknownSyntaxError`) {
    const word = argv.find(arg => !arg.startsWith(`-`));
    if (word !== undefined && commandsNamedBy([word]) === null && !commands.some(command => command.paths?.some(path => path[0] === word))) {
      const suggestion = closestCommand(word, commands);
      return `unknown command "${word}" for "kubectl pullsecret"${suggestion ? `; did you mean "${suggestion}"?` : ``}`;
    }
    const unsupported = /^Unsupported option name \("?([^")]*)"?\)/.exec(firstLine);
    if (unsupported)
      return `unknown flag "${unsupported[1]}"`;
    if (/^Not enough positional arguments/.test(firstLine) && word !== undefined)
      return `"kubectl pullsecret ${word}" needs more arguments (for example the secret NAME)`;
    if (/^Extraneous positional argument/.test(firstLine))
      return oneLine(firstLine.replace(/^Extraneous positional argument/, `unexpected argument`));
    const candidates = (error as Error & {candidates?: Array<{usage: string}>}).candidates ?? [];
    const best = candidates[0]?.usage === undefined ? undefined : withValueNames(candidates[0].usage);
    if (/^Command not found/.test(firstLine))
      return best ? `invalid arguments; the closest usage is "${best}"` : `invalid arguments`;
    return oneLine(firstLine);
  }
  return oneLine(firstLine.replace(/^Invalid value for/, `invalid value for`));
}

/** The visible command closest to a mistyped word (prefix, else edit distance ≤ 2), as kubectl suggests. */
function closestCommand(word: string, commands: Array<CommandClass<PullSecretContext>>): string | undefined {
  const names = commands.flatMap(command => command.usage === undefined ? [] : (command.paths ?? []).map(path => path[0]!)).filter(name => !name.startsWith(`-`));
  const prefixed = names.find(name => name.startsWith(word) || word.startsWith(name));
  if (prefixed)
    return prefixed;
  const scored = names.map(name => ({name, distance: editDistance(word, name)})).sort((a, b) => a.distance - b.distance);
  return scored[0] && scored[0].distance <= 2 ? scored[0].name : undefined;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
