/**
 * A command built from the pflag grammar's reading of its line, without clipanion's parser. clipanion compiles a
 * state machine over every option of the registered commands before its first parse: for `add` that machine and
 * the garbage it leaves cost about 15 ms of CPU at every start of the binary, more than the command's own work.
 * The grammar (core/grammar.ts) has already read the line as kubectl would and checked it against the command's
 * flag table: every value is bound with `=`, booleans are bare or `--no-…`, arguments follow `--`. From that, this
 * module builds the `state` that clipanion's machine would reach (options as `{name, value}` in order, positionals
 * with their kind, the command's path) and runs the command's own option transformers on it, as clipanion's
 * `Cli.process` does, so every default, validator and conversion stays clipanion's.
 *
 * It declines (undefined) every line outside what it covers: `--help`, a command with a trailing list of arguments
 * or a required option, an alias path, too many or too few arguments, a value a transformer refuses, a clipanion
 * without the internals it reads. clipanion then parses the line as before and reports what is wrong.
 * tests/commands/directParse.test.ts holds it to clipanion's result on a corpus of command lines.
 */
import type {Cli} from 'clipanion';
import type {Command, CommandClass} from 'clipanion';
import type {CommandGrammar} from '../core/grammar.ts';
import type {PullSecretContext} from '../context.ts';

type Transformer = (builder: unknown, key: string, state: unknown, context: unknown) => unknown;
type Registration = {builder: {options?: Array<{required?: boolean}>}; specs: Map<string, {transformer: Transformer}>};
type OptionValue = {name: string; value: string | boolean};

/** The command for `argv` (the grammar's output) as `cli.process` would build it, or undefined to let clipanion parse it. */
export function processDirectly(cli: Cli<PullSecretContext>, commandClass: CommandClass<PullSecretContext>, grammar: CommandGrammar, argv: readonly string[], context: PullSecretContext): Command<PullSecretContext> | undefined {
  const registration = (cli as unknown as {registrations?: Map<unknown, Registration>}).registrations?.get(commandClass);
  if (registration === undefined || !(registration.specs instanceof Map) || grammar.rest !== undefined)
    return undefined;
  if ((registration.builder.options ?? []).some(option => option.required === true))
    return undefined;
  const end = argv.indexOf(`--`);
  const words = end === -1 ? argv : argv.slice(0, end);
  const args = end === -1 ? [] : argv.slice(end + 1);

  const byName = new Map(grammar.flags.flatMap(flag => flag.names.map(name => [name, flag] as const)));
  const options: OptionValue[] = [];
  const path: string[] = [];
  for (const word of words) {
    if (!word.startsWith(`-`)) {
      // The command's words, in order; anything else (an alias such as `--version`) is clipanion's to read.
      if (grammar.path[path.length] !== word)
        return undefined;
      path.push(word);
      continue;
    }
    if (word === `-h` || word === `--help`)
      return undefined;
    const bound = /^(--?[^=]+)=([\s\S]*)$/.exec(word);
    if (bound !== null) {
      const kind = byName.get(bound[1]!)?.kind;
      if (kind !== `value` && kind !== `optional-value`)
        return undefined;
      options.push({name: bound[1]!, value: bound[2]!});
      continue;
    }
    const kind = byName.get(word)?.kind;
    if (kind === `boolean` || kind === `optional-value`) {
      options.push({name: word, value: true});
      continue;
    }
    const negated = /^--no-(.+)$/.exec(word);
    if (negated !== null && byName.get(`--${negated[1]}`)?.kind === `boolean`) {
      options.push({name: `--${negated[1]}`, value: false});
      continue;
    }
    return undefined;
  }
  if (path.length !== grammar.path.length)
    return undefined;

  // Required arguments first, then optional ones, as every command here declares them.
  const required = grammar.positionals.filter(positional => positional.required).length;
  if (grammar.positionals.slice(0, required).some(positional => !positional.required))
    return undefined;
  if (args.length < required || args.length > grammar.positionals.length)
    return undefined;
  const state = {options, positionals: args.map((value, index) => ({value, extra: index >= required})), path};

  // As clipanion's Cli.process: a fresh instance, the merged context, then each option's transformer in order.
  // Our context holds every key of clipanion's default context (env, stdio, colorDepth), so the merge is a copy;
  // reading Cli.defaultContext would create Node's stdio streams (scripts/lib/sea.ts, clipanionStdioOnFirstUse).
  const merged = {...context};
  const command = new (commandClass as unknown as new () => Command<PullSecretContext> & Record<string, unknown>)();
  command.context = merged;
  command.path = path;
  try {
    for (const [key, {transformer}] of registration.specs.entries())
      command[key] = transformer(registration.builder, key, state, merged);
  } catch {
    return undefined;
  }
  return command;
}
