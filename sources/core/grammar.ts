/**
 * kubectl's flag grammar (spf13/pflag), in front of clipanion: users type what they type to kubectl, and the
 * mistakes get kubectl's words. `parseGrammar` reads one command's argv against that command's flag table and
 * returns an argv clipanion parses without ambiguity (every value bound with `=`), or one error line.
 *
 * What pflag accepts, and so do we:
 * - `--flag=value` for every flag, `--flag value` for flags that take a value (the next word is the value even
 *   when it starts with `-`), `-xVALUE`, `-x=VALUE` and `-x VALUE` for shorthands;
 * - booleans bare or as `--flag=true|false` (`1`, `0`, `t`, `f`, `T`, `F`, `TRUE`, `FALSE`, `True`, `False`),
 *   combined shorthands (`-Ao json`: `-A` then `-o json`);
 * - flags with an optional value (`--dry-run`, `--attach`) take it only after `=`: `--attach default` is the bare
 *   flag followed by the word `default` (a word that then has no place gets "did you mean --attach=default?");
 * - `--` ends the flags: every later word is an argument.
 * Its error lines: `unknown flag: --x`, `unknown shorthand flag: 'x' in -x`, `flag needs an argument: --x` /
 * `'x' in -x`, `invalid argument "v" for "-A, --all-namespaces" flag: strconv.ParseBool: parsing "v": invalid
 * syntax`; kubectl's `exactly one NAME is required, got N` for a wrong number of arguments.
 */

/** How a flag takes its value. */
export type FlagKind = `boolean` | `value` | `optional-value`;

/** One flag of a command, with every name it answers to (`-n`, `--namespace`). */
export type FlagSpec = {names: string[]; kind: FlagKind};

/** A command's flags and arguments, as its definition declares them. */
export type CommandGrammar = {
  /** The command's words, e.g. `['add']`. */
  path: string[];
  /** Other spellings of those words (`--version` for `version`). */
  aliases?: string[][];
  flags: FlagSpec[];
  /** Named arguments in order (`NAME`), and whether each is required. */
  positionals: Array<{name: string; required: boolean}>;
  /** A trailing list (`IMAGE…`), with how many it needs at least. */
  rest?: {name: string; required: number};
};

/** The argv clipanion should parse, or the one error line to print (without `error: `). */
export type GrammarResult = {argv: string[]} | {error: string};

const TRUE_WORDS = new Set([`1`, `t`, `T`, `TRUE`, `true`, `True`]);
const FALSE_WORDS = new Set([`0`, `f`, `F`, `FALSE`, `false`, `False`]);

/** `-A, --all-namespaces`: how pflag names a flag in an invalid-argument error. */
function flagLabel(flag: FlagSpec): string {
  const short = flag.names.find(name => /^-[^-]$/.test(name));
  const long = flag.names.find(name => name.startsWith(`--`));
  return short !== undefined && long !== undefined ? `${short}, ${long}` : (long ?? short ?? ``);
}

/** The name clipanion is given for a flag (the long one when there is one). */
function canonical(flag: FlagSpec): string {
  return flag.names.find(name => name.startsWith(`--`)) ?? flag.names[0]!;
}

/** Reads argv (starting with the command's words) as pflag would; see the module comment. */
export function parseGrammar(argv: readonly string[], grammar: CommandGrammar): GrammarResult {
  const byName = new Map<string, FlagSpec>();
  for (const flag of grammar.flags)
    for (const name of flag.names)
      byName.set(name, flag);

  const out: string[] = [];
  const args: Array<{word: string; afterOptional?: string}> = [];
  let pathLeft: string[] | undefined;
  let endOfFlags = false;
  // A bare optional-value flag just seen: the next word is an argument, but maybe meant as its value.
  let bareOptional: string | undefined;

  const bool = (flag: FlagSpec, value: string | undefined): string | {error: string} => {
    if (value === undefined || TRUE_WORDS.has(value))
      return canonical(flag);
    if (FALSE_WORDS.has(value)) {
      const long = flag.names.find(name => name.startsWith(`--`));
      return long === undefined ? {error: `invalid argument "${value}" for "${flagLabel(flag)}" flag: a shorthand-only flag cannot be turned off`} : `--no-${long.slice(2)}`;
    }
    return {error: `invalid argument "${value}" for "${flagLabel(flag)}" flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`};
  };

  for (let index = 0; index < argv.length; index++) {
    const word = argv[index]!;
    const afterOptional = bareOptional;
    bareOptional = undefined;
    if (!endOfFlags && (pathLeft === undefined || pathLeft.length > 0)) {
      // The command's words, wherever the flags leave them (`-n web list`).
      const path = pathLeft ?? [grammar.path, ...grammar.aliases ?? []].find(candidate => candidate[0] === word);
      if (path !== undefined && path[0] === word) {
        pathLeft = path.slice(1);
        out.push(word);
        continue;
      }
    }
    if (endOfFlags || word === `-` || !word.startsWith(`-`)) {
      args.push({word, ...(afterOptional === undefined ? {} : {afterOptional})});
      continue;
    }
    if (word === `--`) {
      endOfFlags = true;
      continue;
    }
    if (word.startsWith(`--`)) {
      const equals = word.indexOf(`=`);
      const name = equals === -1 ? word : word.slice(0, equals);
      const value = equals === -1 ? undefined : word.slice(equals + 1);
      const flag = byName.get(name);
      if (flag === undefined)
        return {error: `unknown flag: ${name}`};
      if (flag.kind === `boolean`) {
        const bound = bool(flag, value);
        if (typeof bound !== `string`)
          return bound;
        out.push(bound);
      } else if (value !== undefined) {
        out.push(`${canonical(flag)}=${value}`);
      } else if (flag.kind === `optional-value`) {
        out.push(canonical(flag));
        bareOptional = canonical(flag);
      } else {
        if (index + 1 >= argv.length)
          return {error: `flag needs an argument: ${name}`};
        out.push(`${canonical(flag)}=${argv[++index]!}`);
      }
      continue;
    }
    // Shorthands: `-Ao`, `-oyaml`, `-n=web`, `-A=false`.
    const letters = word.slice(1);
    for (let at = 0; at < letters.length; at++) {
      const letter = letters[at]!;
      const flag = byName.get(`-${letter}`);
      if (flag === undefined)
        return {error: `unknown shorthand flag: '${letter}' in -${letters.slice(at)}`};
      const rest = letters.slice(at + 1);
      if (flag.kind === `boolean`) {
        if (rest.startsWith(`=`)) {
          const bound = bool(flag, rest.slice(1));
          if (typeof bound !== `string`)
            return bound;
          out.push(bound);
          break;
        }
        out.push(canonical(flag));
        continue;
      }
      if (rest !== ``) {
        out.push(`${canonical(flag)}=${rest.startsWith(`=`) ? rest.slice(1) : rest}`);
      } else if (flag.kind === `optional-value`) {
        out.push(canonical(flag));
        bareOptional = `-${letter}`;
      } else {
        if (index + 1 >= argv.length)
          return {error: `flag needs an argument: '${letter}' in -${letters.slice(at)}`};
        out.push(`${canonical(flag)}=${argv[++index]!}`);
      }
      break;
    }
  }

  const helpAsked = out.includes(`--help`);
  const error = helpAsked ? undefined : argumentError(args, grammar);
  if (error !== undefined)
    return {error};
  // Arguments after `--` so that one starting with `-` stays an argument.
  return {argv: [...out, ...(args.length > 0 ? [`--`, ...args.map(arg => arg.word)] : [])]};
}

/** kubectl's wording for too few or too many arguments, with a hint when a word was meant as a flag's value. */
function argumentError(args: Array<{word: string; afterOptional?: string}>, grammar: CommandGrammar): string | undefined {
  const required = grammar.positionals.filter(positional => positional.required).length;
  const max = grammar.rest === undefined ? grammar.positionals.length : Infinity;
  if (args.length > max) {
    const extra = args.slice(max).find(arg => arg.afterOptional !== undefined) ?? args.find(arg => arg.afterOptional !== undefined);
    if (extra !== undefined)
      return `${extra.afterOptional} takes its value after "=": did you mean ${extra.afterOptional}=${extra.word}?`;
    if (grammar.positionals.length === 0)
      return `unexpected argument ${JSON.stringify(args[0]!.word)}: "kubectl pullsecret ${grammar.path.join(` `)}" takes no arguments`;
    return `${describeArguments(grammar)}, got ${args.length}`;
  }
  if (args.length < required)
    return `${describeArguments(grammar)}, got ${args.length}`;
  if (grammar.rest !== undefined && args.length < required + grammar.rest.required)
    return `at least ${grammar.rest.required === 1 ? `one` : grammar.rest.required} ${grammar.rest.name} ${grammar.rest.required === 1 ? `is` : `are`} required`;
  return undefined;
}

/** `exactly one NAME is required` (kubectl's words), or the list of what the command takes. */
function describeArguments(grammar: CommandGrammar): string {
  const {positionals} = grammar;
  if (positionals.length === 1 && positionals[0]!.required)
    return `exactly one ${positionals[0]!.name} is required`;
  if (positionals.length === 1)
    return `at most one ${positionals[0]!.name} is allowed`;
  return `expected ${positionals.map(positional => positional.required ? positional.name : `[${positional.name}]`).join(` `)}`;
}
