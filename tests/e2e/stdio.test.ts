// The binary's stdio without Node's streams (sources/adapters/local/stdio.ts, and clipanion patched in the bundle by
// scripts/lib/sea.ts): what `add --dry-run=client -o json` loads, and the real conditions under which the streams
// must still come in (a full non-blocking pipe, a terminal) or the process must end quietly (a closed pipe).
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import * as esbuild from 'esbuild';
import {CLIPANION_PATCHES, ROOT, applyExactPatches, clipanionStdioOnFirstUse} from '../../scripts/lib/sea.ts';
import {BINARY, ensureBinary, pluginEnv} from '../helpers/binary.ts';
import {runCli} from '../helpers/runCli.ts';
import {nonBlockingFifo, readNonBlocking, readerlessFifo} from '../helpers/fifo.ts';

before(async () => {
  await ensureBinary();
});

const ADD = [`add`, `x`, `--docker-server`, `r.example.com`, `--docker-username`, `u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`];

function tempDir(t: {after: (fn: () => void) => void}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-stdio-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

/** A preload (NODE_OPTIONS, which the single executable honours) that writes the built-in modules the run loaded. */
function moduleListProbe(dir: string): {env: Record<string, string>; loaded: () => string[]} {
  const preload = path.join(dir, `module-list.cjs`);
  const list = path.join(dir, `modules.txt`);
  fs.writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  return {
    env: {NODE_OPTIONS: `--require ${preload}`},
    loaded: () => fs.readFileSync(list, `utf8`).split(`\n`).filter(line => line.startsWith(`NativeModule `)).map(line => line.slice(`NativeModule `.length)),
  };
}

/** Node's stdio streams and what they load: node:tty, node:net and the stream modules. */
const STREAM_MODULES = [`tty`, `net`, `stream`, `internal/streams/writable`, `internal/fs/sync_write_stream`];

test(`add --dry-run=client -o json with the password piped in prints the same JSON to /dev/null or a file, without loading node:tty, node:net or the streams`, async t => {
  const dir = tempDir(t);
  const expected = await runCli(ADD, {stdin: `p`, home: dir});
  assert.equal(expected.code, 0, expected.stderr);
  for (const target of [`/dev/null`, path.join(dir, `out.json`)]) {
    const probe = moduleListProbe(dir);
    const out = fs.openSync(target, `w`);
    let result;
    try {
      // stdin a pipe holding the password, then its end; stderr a pipe (as bench/startup.ts runs it).
      result = spawnSync(BINARY, ADD, {env: pluginEnv(dir, probe.env), input: `p`, stdio: [`pipe`, out, `pipe`], encoding: `utf8`, timeout: 60_000});
    } finally {
      fs.closeSync(out);
    }
    assert.deepEqual([result.status, result.stderr], [0, ``], target);
    if (target !== `/dev/null`)
      assert.equal(fs.readFileSync(target, `utf8`), expected.stdout, `the binary's JSON is byte for byte the sources'`);
    const loaded = probe.loaded();
    assert.ok(loaded.includes(`fs`), `the module list was read (${loaded.length} modules)`);
    assert.deepEqual(STREAM_MODULES.filter(name => loaded.includes(name)), [], `${target}: Node's stdio streams were created`);
  }
});

test(`--help (the overview the executable's main script prints) to a pipe loads neither node:tty, node:net nor the streams`, async t => {
  const dir = tempDir(t);
  const probe = moduleListProbe(dir);
  const {renderOverview} = await import(`../../sources/cli.ts`);
  const {COMMANDS} = await import(`../../sources/commands/all.ts`);
  const result = spawnSync(BINARY, [`--help`], {env: pluginEnv(dir, probe.env), stdio: [`ignore`, `pipe`, `pipe`], encoding: `utf8`, timeout: 60_000});
  assert.deepEqual([result.status, result.stdout, result.stderr], [0, renderOverview(COMMANDS), ``]);
  assert.deepEqual(STREAM_MODULES.filter(name => probe.loaded().includes(name)), []);
});

test(`output larger than a pipe holds, to a non-blocking pipe read late, arrives whole and in order (the writes that meet EAGAIN go through Node's stream)`, async t => {
  const dir = tempDir(t);
  const probe = moduleListProbe(dir);
  // A 100 KB password: the JSON holds it twice in base64 (about 360 KB), several times the 64 KiB a Linux pipe holds.
  const password = `p`.repeat(100_000);
  const expected = await runCli(ADD, {stdin: password, home: dir});
  assert.equal(expected.code, 0, expected.stderr);
  const {reader, writer} = nonBlockingFifo(dir);
  // Node's spawn makes a child's descriptors 0-2 blocking, but not fd 3: the shell moves fd 3 onto stdout with dup2,
  // which keeps the open file's O_NONBLOCK, as a parent sharing a non-blocking pipe with the plugin would.
  const child = spawn(`sh`, [`-c`, `exec "$0" "$@" 1>&3 3>&-`, BINARY, ...ADD], {env: pluginEnv(dir, probe.env), stdio: [`pipe`, `ignore`, `pipe`, writer]});
  fs.closeSync(writer);
  let stderr = ``;
  child.stderr!.on(`data`, (chunk: Buffer) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>(resolve => child.on(`close`, code => resolve(code)));
  child.stdin!.end(password);
  // Nothing is read for a while: the pipe fills and the child's writes meet EAGAIN.
  await new Promise(resolve => setTimeout(resolve, 500));
  const output = await readNonBlocking(reader, {untilEnd: true});
  fs.closeSync(reader);
  assert.deepEqual([await exited, stderr], [0, ``]);
  assert.equal(output.length, expected.stdout.length);
  assert.ok(output === expected.stdout, `the output arrived whole and in order`);
  assert.ok(probe.loaded().includes(`net`), `the rest went through Node's stream for the pipe`);
});

test(`a write to a pipe whose reader is gone ends the command quietly with exit code 0, nothing on stderr`, async t => {
  const dir = tempDir(t);
  // The only reader closed before the child starts: its first write to stdout meets EPIPE.
  const writer = readerlessFifo(dir);
  let result;
  try {
    result = spawnSync(BINARY, ADD, {env: pluginEnv(dir), input: `p`, stdio: [`pipe`, writer, `pipe`], encoding: `utf8`, timeout: 60_000});
  } finally {
    fs.closeSync(writer);
  }
  assert.deepEqual([result.status, result.signal, result.stderr], [0, null, ``]);
});

test(`a terminal on stdout is told from /dev/null and pipes: usage is coloured on a terminal only`, t => {
  const dir = tempDir(t);
  const probe = moduleListProbe(dir);
  // script(1) runs the binary with a pseudo-terminal (a character device other than /dev/null) as stdin, stdout, stderr.
  const env = pluginEnv(dir, {...probe.env, TERM: `xterm`});
  const onTerminal = spawnSync(`script`, [`-qec`, `'${BINARY}' add --help`, `/dev/null`], {env, encoding: `utf8`, timeout: 60_000});
  if (onTerminal.error !== undefined || /invalid option|unrecognized/.test(onTerminal.stderr))
    throw new Error(`script(1) from util-linux is needed: ${onTerminal.error?.message ?? onTerminal.stderr}`);
  assert.equal(onTerminal.status, 0, onTerminal.stderr);
  assert.match(onTerminal.stdout, /\x1b\[/, `coloured on a terminal`);
  assert.ok(probe.loaded().includes(`tty`), `a character device other than /dev/null is asked of node:tty`);
  for (const stdout of [`pipe`, fs.openSync(`/dev/null`, `w`)] as const) {
    const result = spawnSync(BINARY, [`add`, `--help`], {env, stdio: [`ignore`, stdout, `pipe`], encoding: `utf8`, timeout: 60_000});
    assert.equal(result.status, 0, result.stderr);
    if (stdout === `pipe`)
      assert.doesNotMatch(result.stdout, /\x1b\[/, `not coloured in a pipe`);
    else
      fs.closeSync(stdout);
    assert.ok(!probe.loaded().includes(`tty`), `a pipe or /dev/null is told without node:tty`);
  }
});

test(`the bundle's clipanion patches apply to the installed clipanion exactly, and a text that changed fails the build`, async t => {
  const require = createRequire(import.meta.url);
  const clipanion = path.dirname(require.resolve(`clipanion/package.json`));
  for (const [file, patches] of Object.entries(CLIPANION_PATCHES)) {
    const text = fs.readFileSync(path.join(clipanion, file), `utf8`);
    assert.doesNotThrow(() => applyExactPatches(text, patches, file));
    // One space more in the first text to patch, as an upgrade might bring.
    const changed = text.replace(patches[0]!.from, patches[0]!.from.replace(` `, `  `));
    assert.throws(() => applyExactPatches(changed, patches, file), new RegExp(`${file.replace(/[.\\/]/g, `\\$&`)}: expected \\d occurrence`));
  }
  // A build through the plugin: clipanion bundled and patched; a bundle without those files is refused.
  fs.mkdirSync(path.join(ROOT, `.tmp`), {recursive: true});
  const dir = fs.mkdtempSync(path.join(ROOT, `.tmp`, `clipanion-patch-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  fs.writeFileSync(path.join(dir, `with.ts`), `import {Cli} from 'clipanion';\nconsole.log(new Cli());\n`);
  fs.writeFileSync(path.join(dir, `without.ts`), `console.log(1);\n`);
  const build = (entry: string) => esbuild.build({entryPoints: [path.join(dir, entry)], bundle: true, platform: `node`, format: `cjs`, write: false, logLevel: `silent`, plugins: [clipanionStdioOnFirstUse()]});
  const text = (await build(`with.ts`)).outputFiles[0]!.text;
  assert.match(text, /function defaultContextFor\(userContext\)/);
  assert.doesNotMatch(text, /stdin: process\.stdin,\n\s+stdout: process\.stdout,\n\s+stderr: process\.stderr,\n\s+colorDepth: platform\.getDefaultColorDepth\(\),\n\};/);
  await assert.rejects(build(`without.ts`), /clipanion's .*Cli\.js.* was not bundled/);
});

test(`on a terminal the binary prompts for the password without echoing it (the prompt gets Node's stdin stream in raw mode)`, async t => {
  const dir = tempDir(t);
  const child = spawn(`script`, [`-qec`, `'${BINARY}' add regcred --docker-username=u --dry-run=client -o json`, `/dev/null`], {env: pluginEnv(dir, {TERM: `xterm`}), stdio: [`pipe`, `pipe`, `pipe`]});
  let output = ``;
  let typed = false;
  child.stdout.on(`data`, (chunk: Buffer) => {
    output += String(chunk);
    // Typed only once the prompt is up (raw mode, echo off), as a user would.
    if (!typed && output.includes(`Password for u@https://index.docker.io/v1/: `)) {
      typed = true;
      child.stdin.write(`hunter2x\u007f\r`);
    }
  });
  const code = await new Promise<number | null>(resolve => child.on(`close`, resolve));
  child.stdin.destroy();
  assert.equal(code, 0, output);
  assert.equal(typed, true, output);
  assert.doesNotMatch(output, /hunter2/, `the password was not echoed`);
  const secret = JSON.parse(output.slice(output.indexOf(`{`)).replace(/\r\n/g, `\n`)) as {data: Record<string, string>};
  const config = JSON.parse(Buffer.from(secret.data[`.dockerconfigjson`]!, `base64`).toString(`utf8`)) as {auths: Record<string, {password: string}>};
  assert.equal(config.auths[`https://index.docker.io/v1/`]!.password, `hunter2`, `Backspace removed the last character`);
});
