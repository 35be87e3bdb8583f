/**
 * Shell completion as kubectl's plugin completion expects it (cobra's `__complete` protocol): the
 * arguments after the plugin name come in verbatim, the last one being the word under the cursor
 * (possibly ``); the answer is one `candidate[\tdescription]` line per candidate and a final
 * `:<directive>` line (docs/toolchain.md §5). Pure: the command table is derived from clipanion's
 * `cli.definitions()`, and values that need a cluster or a kubeconfig are asked for as a `lookup`.
 */

import {SHELLS} from './scripts.ts';

/** cobra's ShellCompDirective bits. */
export const Directive = {
  default: 0,
  error: 1,
  noSpace: 2,
  noFileComp: 4,
  filterFileExt: 8,
  filterDirs: 16,
  keepOrder: 32,
} as const;

/** One completion candidate. */
export type Candidate = {value: string; description?: string};

/** A flag of a command, as far as completion needs it. */
export type CompletionFlag = {names: string[]; takesValue: boolean; description: string};

/** A visible command: its path below the binary, description, flags and positional argument names. */
export type CompletionCommand = {path: string[]; description: string; flags: CompletionFlag[]; positionals: string[]};

/** The shape of one entry of clipanion's `cli.definitions()`. */
export type CommandDefinition = {
  path: string;
  usage: string;
  description?: string;
  options: Array<{definition: string; description?: string; required: boolean}>;
};

/** Values that are not known statically; the command fetches them (with a short timeout) and may find none. */
export type LookupSource = `namespaces` | `contexts` | `secrets` | `serviceaccounts` | `workloads`;

/** The kubectl flags seen on the command line, which tell a lookup which cluster and namespace to ask. */
export type CompletionScope = {kubeconfig?: string; context?: string; namespace?: string};

/** What to answer: candidates now, or after a lookup. */
export type CompletionPlan =
  | {kind: `static`; candidates: Candidate[]; directive: number}
  | {kind: `lookup`; source: LookupSource; scope: CompletionScope; prefix: string; partial: string; directive: number};

/** Turns clipanion's definitions into the completion table; `binaryName` is stripped from each path. */
export function commandsFromDefinitions(definitions: CommandDefinition[], binaryName: string): CompletionCommand[] {
  return definitions.map(definition => {
    const path = stripBinary(definition.path, binaryName).split(` `).filter(part => part !== ``);
    const rest = stripBinary(definition.usage, binaryName).split(` `).slice(path.length).join(` `);
    const flags: CompletionFlag[] = definition.options.map(option => parseFlag(option.definition, option.description ?? ``));
    // Options without a description are printed inline in the usage line: `[--foo #0]`, `<--bar>`.
    for (const match of rest.matchAll(/[[<](-[^\]>]*)[\]>]/g))
      flags.push(parseFlag(match[1]!, ``));
    const positionals = [...rest.matchAll(/(?:^|\s)[[<]([^\]>-][^\]>]*)[\]>]/g)].map(match => match[1]!);
    return {path, description: firstLine(definition.description ?? ``), flags, positionals};
  });
}

/** `-n,--namespace #0` → names and arity. */
function parseFlag(definition: string, description: string): CompletionFlag {
  const [names = ``, ...args] = definition.split(` `);
  return {names: names.split(`,`), takesValue: args.length > 0, description: firstLine(description)};
}

function stripBinary(text: string, binaryName: string): string {
  return text.startsWith(`${binaryName} `) ? text.slice(binaryName.length + 1) : text === binaryName ? `` : text;
}

function firstLine(text: string): string {
  return text.trim().split(`\n`)[0]!.trim();
}

/** Flags whose value is a namespace (or a comma-separated list of them), a context or a file. */
const NAMESPACE_FLAGS = new Set([`-n`, `--namespace`, `--from-namespace`, `--to-namespace`]);
const NAMESPACE_LIST_FLAGS = new Set([`--namespaces`, `--exclude-namespaces`]);
const CONTEXT_FLAGS = new Set([`--context`, `--from-context`]);
/** Flags whose value is a ServiceAccount, or a workload as KIND/NAME, of the namespace in scope. */
const SERVICE_ACCOUNT_FLAGS = new Set([`--service-account`]);
const WORKLOAD_FLAGS = new Set([`--workload`]);
const FILE_FLAGS = new Set([`--kubeconfig`, `-f`, `--filename`, `--docker-config`, `--from-docker-config`, `--from-podman-auth`, `--from-file`, `--password-file`, `--docker-password-file`, `--cacert`, `--ca-file`]);
/** Flags with a fixed set of values whose description does not list them. */
const ENUM_FLAGS: Record<string, string[]> = {'--dry-run': [`none`, `client`, `server`]};

/** Works out what to complete for `args` (everything after the plugin name; the last item is the word being completed). */
export function planCompletion(commands: CompletionCommand[], args: string[]): CompletionPlan {
  const words = args.slice(0, -1);
  const current = args.at(-1) ?? ``;
  const allFlags = new Map<string, CompletionFlag>();
  for (const command of commands) {
    for (const flag of command.flags) {
      for (const name of flag.names) {
        if (!allFlags.has(name))
          allFlags.set(name, flag);
      }
    }
  }

  const positionals: string[] = [];
  const scope: CompletionScope = {};
  let command: CompletionCommand | undefined;
  let pendingFlag: {name: string; flag: CompletionFlag} | undefined;
  let afterDoubleDash = false;
  const flagOf = (name: string) => command?.flags.find(flag => flag.names.includes(name)) ?? allFlags.get(name);
  const remember = (name: string, value: string) => {
    if (name === `--kubeconfig`)
      scope.kubeconfig = value;
    else if (name === `--context`)
      scope.context ??= value;
    else if (name === `-n` || name === `--namespace`)
      scope.namespace = value;
  };

  for (const word of words) {
    if (pendingFlag) {
      remember(pendingFlag.name, word);
      pendingFlag = undefined;
      continue;
    }
    if (!afterDoubleDash && word === `--`) {
      afterDoubleDash = true;
      continue;
    }
    if (!afterDoubleDash && word.startsWith(`-`) && word !== `-`) {
      const eq = word.indexOf(`=`);
      const name = eq >= 0 ? word.slice(0, eq) : word;
      if (eq >= 0) {
        remember(name, word.slice(eq + 1));
      } else {
        const flag = flagOf(name);
        if (flag?.takesValue)
          pendingFlag = {name, flag};
      }
      continue;
    }
    positionals.push(word);
    command = matchCommand(commands, positionals) ?? command;
  }

  // The value of a flag given as a separate word: `-n <TAB>`.
  if (pendingFlag)
    return planValue(pendingFlag.name, pendingFlag.flag, ``, current, scope);

  if (!afterDoubleDash && current.startsWith(`-`)) {
    const eq = current.indexOf(`=`);
    if (eq >= 0) {
      const name = current.slice(0, eq);
      const flag = flagOf(name);
      if (flag)
        return planValue(name, flag, `${name}=`, current.slice(eq + 1), scope);
      return {kind: `static`, candidates: [], directive: Directive.noFileComp};
    }
    const flags = command ? command.flags : [{names: [`-h`, `--help`], takesValue: false, description: `show the help`}, {names: [`--version`], takesValue: false, description: `print the version`}];
    const candidates: Candidate[] = [];
    for (const flag of flags) {
      for (const name of flag.names) {
        // Like cobra: `-<TAB>` offers short and long names, `--<TAB>` only long ones.
        if (name.startsWith(current) && !(current.startsWith(`--`) && !name.startsWith(`--`)))
          candidates.push({value: name, description: flag.description});
      }
    }
    return {kind: `static`, candidates: dedupe(candidates), directive: Directive.noFileComp};
  }

  const commandDepth = command?.path.length ?? 0;
  const nextSegments = commands.filter(candidate => candidate.path.length > positionals.length && candidate.path.slice(0, positionals.length).every((part, index) => part === positionals[index]));
  if (!command || nextSegments.length > 0 && positionals.length >= commandDepth) {
    const candidates = nextSegments
      .map(candidate => ({value: candidate.path[positionals.length]!, description: candidate.path.length === positionals.length + 1 ? candidate.description : undefined}))
      .filter(candidate => candidate.value.startsWith(current) && !candidate.value.startsWith(`-`) && !candidate.value.startsWith(`_`));
    if (candidates.length > 0 || !command)
      return {kind: `static`, candidates: dedupe(candidates), directive: Directive.noFileComp};
  }

  // A positional argument of the command: secret names for NAME, nothing (and no files) otherwise.
  const argumentName = command.positionals[positionals.length - commandDepth]?.toLowerCase();
  if (argumentName === `name` || argumentName === `secret`)
    return {kind: `lookup`, source: `secrets`, scope, prefix: ``, partial: current, directive: Directive.noFileComp};
  if (argumentName === `shell`)
    return {kind: `static`, candidates: SHELLS.filter(shell => shell.startsWith(current)).map(shell => ({value: shell})), directive: Directive.noFileComp};
  if (argumentName !== undefined && /file|path|dir/.test(argumentName))
    return {kind: `static`, candidates: [], directive: Directive.default};
  return {kind: `static`, candidates: [], directive: Directive.noFileComp};
}

/** The command whose path equals the leading positionals (the longest such path). */
function matchCommand(commands: CompletionCommand[], positionals: string[]): CompletionCommand | undefined {
  let best: CompletionCommand | undefined;
  for (const command of commands) {
    if (command.path.length <= positionals.length && command.path.every((part, index) => part === positionals[index]) && command.path.length > (best?.path.length ?? -1))
      best = command;
  }
  return best;
}

function planValue(name: string, flag: CompletionFlag, prefix: string, partial: string, scope: CompletionScope): CompletionPlan {
  if (NAMESPACE_FLAGS.has(name))
    return {kind: `lookup`, source: `namespaces`, scope, prefix, partial, directive: Directive.noFileComp};
  if (NAMESPACE_LIST_FLAGS.has(name)) {
    // Comma-separated: complete the last item, keeping the ones before it.
    const comma = partial.lastIndexOf(`,`);
    return {kind: `lookup`, source: `namespaces`, scope, prefix: prefix + partial.slice(0, comma + 1), partial: partial.slice(comma + 1), directive: Directive.noFileComp | Directive.noSpace};
  }
  if (CONTEXT_FLAGS.has(name))
    return {kind: `lookup`, source: `contexts`, scope, prefix, partial, directive: Directive.noFileComp};
  if (SERVICE_ACCOUNT_FLAGS.has(name))
    return {kind: `lookup`, source: `serviceaccounts`, scope, prefix, partial, directive: Directive.noFileComp};
  if (WORKLOAD_FLAGS.has(name))
    return {kind: `lookup`, source: `workloads`, scope, prefix, partial, directive: Directive.noFileComp};
  if (FILE_FLAGS.has(name))
    return {kind: `static`, candidates: [], directive: Directive.default};
  const values = ENUM_FLAGS[name] ?? valuesFromDescription(flag.description);
  return {kind: `static`, candidates: values.filter(value => value.startsWith(partial)).map(value => ({value: prefix + value})), directive: Directive.noFileComp};
}

/** `output format: json or yaml`, `print it: json, yaml or name` → the listed words (the text after the last colon). */
function valuesFromDescription(description: string): string[] {
  const tail = description.slice(description.lastIndexOf(`:`) + 1).trim();
  if (!/^[a-z][a-z0-9-]*(?:\s*(?:,|\||\bor\b)\s*[a-z][a-z0-9-]*)+$/.test(tail))
    return [];
  return tail.split(/\s*(?:,|\||\bor\b)\s*/).filter(word => word !== ``);
}

function dedupe(candidates: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter(candidate => !seen.has(candidate.value) && Boolean(seen.add(candidate.value)));
}

/** The candidates of a lookup: `values` starting with the partial word, each prefixed (for `--flag=` and comma lists). */
export function lookupCandidates(plan: Extract<CompletionPlan, {kind: `lookup`}>, values: string[]): Candidate[] {
  return [...new Set(values)].filter(value => value.startsWith(plan.partial)).sort().map(value => ({value: plan.prefix + value}));
}

/** The protocol's text: one `value[\tdescription]` line per candidate, then `:<directive>`. */
export function renderCompletion(candidates: Candidate[], directive: number): string {
  const clean = (text: string) => text.replace(/[\t\n\r]+/g, ` `);
  const lines = candidates.map(candidate => candidate.description ? `${clean(candidate.value)}\t${clean(candidate.description)}` : clean(candidate.value));
  return `${[...lines, `:${directive}`].join(`\n`)}\n`;
}
