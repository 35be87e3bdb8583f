// Every input is read up to its cap whatever it is: a FIFO (what a pipe, `<(…)` or `/dev/stdin` is) fed one byte
// more than the cap gets one `error:` line naming the input and the cap, not a read of everything (a `stat` size
// is 0 for pipes and devices). Credential helpers are bounded and killed for good. The writers are bounded: each
// feeds the cap plus 1 MiB, then stops. Peak memory at 1 GiB of input is measured by bench/bounded-reads.ts.
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {startApiEmulator} from '../helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {runCli} from '../helpers/runCli.ts';
import {runCredentialHelper} from '../../sources/adapters/local/credentialHelper.ts';

const MiB = 1024 * 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bounded-`));
let api: ApiEmulator;
let fifoCount = 0;

before(async () => {
  api = await startApiEmulator();
  api.seed.namespace(`web`);
});
after(async () => {
  await api?.stop();
  fs.rmSync(tmp, {recursive: true, force: true});
});

/** A FIFO that a separate process fills with `bytes` bytes (of `/dev/zero`, or of `text` repeated) once a reader opens it. */
function feedingFifo(bytes: number, text?: string): string {
  const fifo = path.join(tmp, `fifo-${++fifoCount}`);
  assert.equal(spawnSync(`mkfifo`, [fifo]).status, 0);
  const source = text === undefined ? `head -c ${bytes} /dev/zero` : `yes '${text}' | head -c ${bytes}`;
  const writer = spawn(`sh`, [`-c`, `${source} > '${fifo}' 2>/dev/null`], {stdio: `ignore`});
  writer.unref();
  return fifo;
}

const kube = () => [`--kubeconfig`, api.kubeconfigPath];
const server = [`--docker-server`, `127.0.0.1:1`, `--docker-username`, `u`];

const cases: Array<{what: string; cap: number; argv: (input: string) => string[]; kube?: boolean; message: RegExp; text?: string}> = [
  {what: `--docker-password-file`, cap: MiB, argv: input => [`add`, `x`, `-n`, `web`, ...server, `--docker-password-file`, input], kube: true, message: /^error: --docker-password-file \S+ is larger than 1 MiB/},
  {what: `--from-docker-config`, cap: 4 * MiB, argv: input => [`add`, `x`, `-n`, `web`, `--from-docker-config=${input}`], kube: true, message: /^error: --from-docker-config \S+ is larger than 4 MiB/},
  {what: `verify -f`, cap: 16 * MiB, argv: input => [`verify`, `-n`, `web`, `-f`, input], kube: true, message: /^error: \S+ is larger than 16 MiB/},
  {what: `decode -f`, cap: 16 * MiB, argv: input => [`decode`, `-f`, input], message: /^error: \S+ is larger than 16 MiB/},
  {what: `explain --docker-config`, cap: 4 * MiB, argv: input => [`explain`, `127.0.0.1:1/app:1`, `--docker-config`, input], message: /^error: --docker-config \S+ is larger than 4 MiB/},
  {what: `verify --image --docker-config`, cap: 4 * MiB, argv: input => [`verify`, `--image`, `127.0.0.1:1/app:1`, `--docker-config`, input], message: /^error: --docker-config \S+ is larger than 4 MiB/},
  {what: `--kubeconfig`, cap: 8 * MiB, argv: input => [`list`, `-n`, `web`, `--kubeconfig`, input], message: /^error: kubeconfig \S+ is larger than 8 MiB/},
  {what: `verify --certificate-authority`, cap: MiB, argv: input => [`verify`, `--image`, `127.0.0.1:1/app:1`, `--certificate-authority`, input], message: /^error: the CA file \S+ is larger than 1 MiB/},
];

for (const {what, cap, argv, kube: withKube, message} of cases) {
  test(`${what} fed one byte more than its cap through a FIFO is refused with one line naming it and the cap`, async () => {
    const input = feedingFifo(cap + MiB);
    const result = await runCli([...argv(input), ...(withKube ? kube() : [])]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split(`\n`).length, 1, result.stderr);
  });
}

test(`--docker-password-stdin and -f - stop reading stdin at their caps`, async () => {
  const password = await runCli([`add`, `x`, `-n`, `web`, ...server, `--docker-password-stdin`, ...kube()], {stdin: Buffer.alloc(MiB + 1, `a`)});
  assert.equal(password.code, 2);
  assert.match(password.stderr, /^error: the password on stdin is larger than 1 MiB/);
  const manifest = await runCli([`decode`, `-f`, `-`], {stdin: Buffer.alloc(16 * MiB + 1, ` `)});
  assert.equal(manifest.code, 2);
  assert.match(manifest.stderr, /^error: -f - \(stdin\) is larger than 16 MiB/);
  const config = await runCli([`explain`, `127.0.0.1:1/app:1`, `--docker-config`, `-`], {stdin: Buffer.alloc(4 * MiB + 1, ` `)});
  assert.equal(config.code, 2);
  assert.match(config.stderr, /^error: --docker-config - is larger than 4 MiB/);
});

test(`a kubeconfig's certificate-authority and token-file are read up to 1 MiB whatever they are`, async () => {
  for (const field of [`certificate-authority`, `token-file`]) {
    const input = feedingFifo(2 * MiB);
    const file = path.join(tmp, `kubeconfig-${field}`);
    const cluster = field === `certificate-authority` ? {server: `https://127.0.0.1:1`, 'certificate-authority': input} : {server: `https://127.0.0.1:1`};
    const user = field === `token-file` ? {'token-file': input} : {token: `t`};
    fs.writeFileSync(file, JSON.stringify({apiVersion: `v1`, kind: `Config`, 'current-context': `c`, clusters: [{name: `c`, cluster}], users: [{name: `u`, user}], contexts: [{name: `c`, context: {cluster: `c`, user: `u`}}]}));
    const result = await runCli([`list`, `-n`, `web`, `--kubeconfig`, file]);
    assert.equal(result.code, 2, `${field}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^error: .*${input.replace(/[/.-]/g, `\\$&`)}.* is larger than 1 MiB|^error: \\S+ ${input.replace(/[/.-]/g, `\\$&`)} .*is larger than 1 MiB`), `${field}: ${result.stderr}`);
  }
});

test(`verify -f of a file made of "---" lines is refused by its document count before it is parsed`, async () => {
  const file = path.join(tmp, `dashes.yaml`);
  fs.writeFileSync(file, `---\n`.repeat(256 * 1024));
  const result = await runCli([`verify`, `-n`, `web`, `-f`, file, ...kube()]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^error: \S+ holds more than 10000 YAML documents, the most this plugin reads from one input; split it$/m);
});

const HELPER_JSON = `{"ServerURL":"r","Username":"u","Secret":"late-answer-secret"}`;

function helperOnPath(name: string, script: string): Record<string, string> {
  const bin = path.join(tmp, `bin-${name}`);
  fs.mkdirSync(bin, {recursive: true});
  fs.writeFileSync(path.join(bin, `docker-credential-${name}`), `#!/bin/sh\n${script}\n`, {mode: 0o755});
  return {PATH: `${bin}:/usr/bin:/bin`};
}

test(`a credential helper that ignores SIGTERM is killed for good after the timeout and its late answer is never used`, async () => {
  const pidFile = path.join(tmp, `helper.pid`);
  const env = helperOnPath(`stubborn`, `trap '' TERM; echo $$ > '${pidFile}'; cat >/dev/null; sleep 3; printf '${HELPER_JSON}'`);
  await assert.rejects(runCredentialHelper(`stubborn`, `r`, env, {timeoutMs: 500}), /credential helper docker-credential-stubborn did not answer within 0\.5s and was killed \(for r\)/);
  const pid = Number(fs.readFileSync(pidFile, `utf8`));
  // SIGKILL is immediate; reaping the zombie takes a moment (at most 2 s here).
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !/^Z/.test(fs.readFileSync(`/proc/${pid}/stat`, `utf8`).split(` `)[2] ?? ``);
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 40 && alive(); i++)
    await new Promise(resolve => setTimeout(resolve, 50));
  assert.equal(alive(), false, `the helper process is gone`);
});

test(`a credential helper flooding stderr is read without keeping it, and one flooding stdout is stopped at 1 MiB`, async () => {
  // 600 MB of stderr is more than a JavaScript string can hold: buffering it whole ends in ERR_STRING_TOO_LONG.
  const loud = helperOnPath(`loud`, `cat >/dev/null; head -c 600000000 /dev/zero >&2; printf '${HELPER_JSON}'`);
  assert.deepEqual(await runCredentialHelper(`loud`, `r`, loud), {Username: `u`, Secret: `late-answer-secret`});
  const chatty = helperOnPath(`chatty`, `cat >/dev/null; head -c 3000000 /dev/zero; printf '${HELPER_JSON}'`);
  await assert.rejects(runCredentialHelper(`chatty`, `r`, chatty), /credential helper docker-credential-chatty wrote more than 1 MiB to stdout and was killed/);
});
