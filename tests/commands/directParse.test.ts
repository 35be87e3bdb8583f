import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {CommandClass} from 'clipanion';
import {buildCli} from '../../sources/cli.ts';
import {COMMANDS} from '../../sources/commands/all.ts';
import {grammarOf} from '../../sources/commands/grammar.ts';
import {processDirectly} from '../../sources/commands/directParse.ts';
import type {PullSecretContext} from '../../sources/context.ts';
import {parseGrammar} from '../../sources/core/grammar.ts';

const SECRET = [`--docker-server`, `r.example.com`, `--docker-username`, `u`];

/** Lines people type, the flag forms of pflag, and lines the direct build must leave to clipanion. */
const LINES: string[][] = [
  [`add`, `regcred`, ...SECRET, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`],
  [`add`, `regcred`, `-nweb`, `-oyaml`, `--docker-server=r`, `--docker-username=u`, `--docker-password=p`, `--dry-run`],
  [`add`, `regcred`, ...SECRET, `--docker-password-stdin`, `--attach`, `--replace`, `--force=false`, `-A`],
  [`add`, `regcred`, ...SECRET, `--docker-password-stdin`, `--attach=all`, `--namespaces`, `a,b`, `--context`, `one`, `--context=two`],
  [`add`, `regcred`, `--from-docker-config`, `--registry`, `docker.io`, `--registry`, `ghcr.io`, `-A`, `--attach`, `-v`],
  [`add`, `regcred`, ...SECRET, `--docker-password-stdin`, `--dry-run=server`, `-v=4`, `--request-timeout`, `5s`],
  [`-n`, `web`, `add`, `regcred`, ...SECRET, `--docker-password-stdin`],
  [`add`, `--`, `-regcred`, ...SECRET],
  [`add`, `regcred`, ...SECRET, `--docker-password-stdin`, `--request-timeout=abc`],
  [`add`, `regcred`, ...SECRET, `--dry-run=bogus`],
  [`add`, `regcred`, `--help`],
  [`add`],
  [`decode`, `regcred`, `-n`, `ci`],
  [`decode`, `regcred`, `-nci`, `--reveal`, `-o`, `dockerconfig`],
  [`decode`, `-f`, `secret.yaml`],
  [`decode`],
  [`decode`, `a`, `b`],
  [`list`, `-n`, `ci`],
  [`list`, `-Ao`, `json`, `--context=a`, `--context`, `b`],
  [`list`, `--all-namespaces=false`, `-owide`],
  [`list`, `--namespace-selector`, `team=a`, `--exclude-namespaces`, `kube-system`],
  [`list`, `extra`],
  [`attach`, `regcred`, `--service-account`, `builder`, `-n`, `ci`],
  [`detach`, `regcred`, `-A`],
  [`sync`, `regcred`, `--from-namespace`, `ci`, `-A`, `--attach`, `--prune`],
  [`remove`, `regcred`, `-n`, `ci`, `--force`],
  [`rotate`, `regcred`, ...SECRET, `--docker-password-stdin`, `-A`],
  [`refresh`, `-A`, `-o`, `json`],
  [`verify`, `-n`, `ci`, `-o`, `junit`],
  [`verify`, `-f`, `app.yaml`, `--image`, `ghcr.io/a/b:1`],
  [`doctor`, `web-1`, `-n`, `ci`],
  [`doctor`, `-A`],
  [`explain`, `ghcr.io/a/b:1`, `docker.io/library/nginx`],
  [`install`, `agent`, `-o`, `yaml`],
  [`completion`, `bash`],
  [`version`],
  [`version`, `-o`, `json`],
  [`--version`],
];

/** The arguments of every --help example (after `$0`, up to a pipe or redirect), where they are plain words. */
function exampleLines(): string[][] {
  const lines: string[][] = [];
  for (const command of COMMANDS) {
    for (const [, text] of command.usage?.examples ?? []) {
      const tail = text.slice(text.indexOf(`$0 `) + 3);
      const words: string[] = [];
      for (const match of tail.matchAll(/'([^']*)'|"([^"$]*)"|(\S+)/g)) {
        const word = match[1] ?? match[2] ?? match[3]!;
        if (match[3] !== undefined && /^[|>);&]|^\d?>/.test(word))
          break;
        words.push(word);
      }
      if (!words.some(word => word.includes(`$`)))
        lines.push(words);
    }
  }
  return lines;
}

const context = (): PullSecretContext => ({env: {}, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin} as unknown as PullSecretContext);

/** What clipanion builds for the line, or its error. */
function viaClipanion(command: CommandClass<PullSecretContext>, argv: string[]): Record<string, unknown> | {error: string} {
  try {
    return fields(buildCli(context(), [command]).process(argv, context()) as unknown as Record<string, unknown>);
  } catch (error) {
    return {error: String(error)};
  }
}

/** The parsed fields of a command (not the context clipanion or this module attaches). */
function fields(command: Record<string, unknown>): Record<string, unknown> {
  const {context: _context, cli: _cli, ...rest} = command;
  return rest;
}

function commandOf(argv: string[]): CommandClass<PullSecretContext> | undefined {
  const word = argv.find((candidate, index) => !candidate.startsWith(`-`) && argv[index - 1] !== `-n`);
  return COMMANDS.find(command => command.paths?.some(path => path[0] === word || path[0] === argv[0]));
}

test(`a command built from the grammar's reading equals clipanion's, for every line it builds`, () => {
  let built = 0;
  const lines = [...LINES, ...exampleLines()];
  assert.ok(lines.length > LINES.length + 30, `the help examples are in the corpus (${lines.length - LINES.length})`);
  for (const line of lines) {
    const command = commandOf(line);
    assert.ok(command, `a command for ${line.join(` `)}`);
    const grammar = grammarOf(command);
    if (grammar === null)
      continue;
    const parsed = parseGrammar(line, grammar);
    if (`error` in parsed)
      continue;
    const direct = processDirectly(buildCli(context(), [command]), command, grammar, parsed.argv, context());
    if (direct === undefined)
      continue;
    built++;
    const expected = viaClipanion(command, parsed.argv);
    assert.deepEqual(fields(direct as unknown as Record<string, unknown>), expected, line.join(` `));
    assert.ok(direct instanceof command, line.join(` `));
  }
  assert.ok(built >= 40, `${built} lines built directly`);
});

test(`the lines the start-up benchmark runs are built directly, and what clipanion must judge is left to it`, () => {
  const direct = (line: string[]) => {
    const command = commandOf(line)!;
    const grammar = grammarOf(command)!;
    const parsed = parseGrammar(line, grammar);
    assert.ok(!(`error` in parsed), line.join(` `));
    return processDirectly(buildCli(context(), [command]), command, grammar, parsed.argv, context());
  };
  for (const line of [LINES[0]!, [`decode`, `regcred`, `-n`, `ci`], [`list`, `-n`, `ci`]])
    assert.ok(direct(line) !== undefined, line.join(` `));
  // --help, a trailing list of arguments, an alias path, a missing argument: clipanion's to read and report.
  for (const line of [[`add`, `regcred`, `--help`], [`explain`, `ghcr.io/a/b:1`], [`--version`]]) {
    const command = commandOf(line)!;
    const parsed = parseGrammar(line, grammarOf(command)!);
    if (`argv` in parsed)
      assert.equal(processDirectly(buildCli(context(), [command]), command, grammarOf(command)!, parsed.argv, context()), undefined, line.join(` `));
  }
});
