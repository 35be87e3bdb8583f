// `npm run bench:bounded`: peak RSS of every bounded read fed 1 GiB of input, through a pipe and from /dev/zero.
// Each input the plugin reads has a cap (sources/adapters/local/files.ts INPUT_CAPS, the credential helper's and the
// registry's limits); reading stops at the cap whatever the input is, so peak RSS should stay near the start-up RSS
// (`version`) plus the cap, not grow with the input. Peak RSS comes from GNU time (Debian: time).
// Every command runs with Node 24 on the sources (node sources/main.ts), like the tests; no cluster is contacted
// (kubeconfigs point at a closed port; every case fails on its input before any request).
// Options: --bytes N (default 1073741824), --only SUBSTRING (run the cases whose label contains it).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';

const ROOT = path.resolve(import.meta.dirname, `..`);
const NODE = process.execPath;
const MAIN = path.join(ROOT, `sources`, `main.ts`);
const {values} = parseArgs({options: {bytes: {type: `string`, default: String(1024 ** 3)}, only: {type: `string`}}});
const BYTES = Number(values.bytes);
const MiB = 1024 * 1024;

if (spawnSync(`/usr/bin/time`, [`-f`, `%M`, `true`]).status !== 0) {
  console.error(`GNU time (/usr/bin/time) is needed: apt-get install time`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bench-bounded-`));
const closedKubeconfig = (user: Record<string, unknown> = {token: `t`}, cluster: Record<string, unknown> = {}) => {
  const file = path.join(tmp, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, JSON.stringify({apiVersion: `v1`, kind: `Config`, 'current-context': `c`, clusters: [{name: `c`, cluster: {server: `https://127.0.0.1:1`, ...cluster}}], users: [{name: `u`, user}], contexts: [{name: `c`, context: {cluster: `c`, user: `u`, namespace: `web`}}]}));
  return file;
};
const bin = path.join(tmp, `bin`);
fs.mkdirSync(bin);
fs.writeFileSync(path.join(bin, `docker-credential-flood`), `#!/bin/sh\ncat >/dev/null\nhead -c ${BYTES} /dev/zero >&2\nprintf '{"ServerURL":"r","Username":"u","Secret":"s"}'\n`, {mode: 0o755});
fs.writeFileSync(path.join(bin, `docker-credential-chatty`), `#!/bin/sh\ncat >/dev/null\nhead -c ${BYTES} /dev/zero\n`, {mode: 0o755});
const helperConfig = (store: string) => {
  const file = path.join(tmp, `config-${store}.json`);
  fs.writeFileSync(file, JSON.stringify({auths: {'r.example.com': {}}, credsStore: store}));
  return file;
};

/** `INPUT` in argv is replaced by the input's path (`/dev/stdin` for the pipe); `stdin: true` feeds standard input instead. */
type Case = {label: string; cap: string; argv: (input: string) => string[]; stdin?: boolean; fixedInput?: boolean};
const add = [`add`, `x`, `-n`, `web`, `--dry-run=client`];
const server = [`--docker-server`, `r.example.com`, `--docker-username`, `u`];
const cases: Case[] = [
  {label: `add --docker-password-file`, cap: `1 MiB`, argv: input => [...add, ...server, `--docker-password-file`, input]},
  {label: `add --docker-password-stdin`, cap: `1 MiB`, argv: () => [...add, ...server, `--docker-password-stdin`], stdin: true},
  {label: `add --from-docker-config`, cap: `4 MiB`, argv: input => [...add, `--from-docker-config=${input}`]},
  {label: `explain --docker-config FILE`, cap: `4 MiB`, argv: input => [`explain`, `r.example.com/app:1`, `--docker-config`, input]},
  {label: `explain --docker-config -`, cap: `4 MiB`, argv: () => [`explain`, `r.example.com/app:1`, `--docker-config`, `-`], stdin: true},
  {label: `verify --image --docker-config`, cap: `4 MiB`, argv: input => [`verify`, `--image`, `r.example.com/app:1`, `--docker-config`, input]},
  {label: `decode -f FILE`, cap: `16 MiB`, argv: input => [`decode`, `-f`, input]},
  {label: `decode -f -`, cap: `16 MiB`, argv: () => [`decode`, `-f`, `-`], stdin: true},
  {label: `verify -f FILE`, cap: `16 MiB`, argv: input => [`verify`, `-f`, input, `--kubeconfig`, closedKubeconfig()]},
  {label: `verify -f -`, cap: `16 MiB`, argv: () => [`verify`, `-f`, `-`, `--kubeconfig`, closedKubeconfig()], stdin: true},
  {label: `--kubeconfig`, cap: `8 MiB`, argv: input => [`list`, `-n`, `web`, `--kubeconfig`, input]},
  {label: `kubeconfig certificate-authority`, cap: `1 MiB`, argv: input => [`list`, `--kubeconfig`, closedKubeconfig({token: `t`}, {'certificate-authority': input})]},
  {label: `kubeconfig token-file`, cap: `1 MiB`, argv: input => [`list`, `--kubeconfig`, closedKubeconfig({'token-file': input})]},
  {label: `kubeconfig client-certificate`, cap: `1 MiB`, argv: input => [`list`, `--kubeconfig`, closedKubeconfig({'client-certificate': input, 'client-key': input})]},
  {label: `verify --certificate-authority`, cap: `1 MiB`, argv: input => [`verify`, `--image`, `127.0.0.1:1/app:1`, `--certificate-authority`, input]},
  {label: `credential helper stderr`, cap: `64 KiB kept`, argv: () => [...add, `--from-docker-config=${helperConfig(`flood`)}`], fixedInput: true},
  {label: `credential helper stdout`, cap: `1 MiB`, argv: () => [...add, `--from-docker-config=${helperConfig(`chatty`)}`], fixedInput: true},
];

type Measure = {rssMiB: number; seconds: number; exit: number; line: string};

function run(argv: string[], input: `pipe` | `zero` | `none`, stdin: boolean): Measure {
  const quoted = [NODE, MAIN, ...argv].map(arg => `'${arg.replace(/'/g, `'\\''`)}'`).join(` `);
  const timed = `/usr/bin/time -f 'RSS %M' -o '${tmp}/time' ${quoted}`;
  const script = input === `pipe`
    ? `head -c ${BYTES} /dev/zero | ${timed}`
    : input === `zero` && stdin ? `${timed} < /dev/zero` : `${timed} < /dev/null`;
  const started = process.hrtime.bigint();
  const result = spawnSync(`sh`, [`-c`, script], {encoding: `utf8`, env: {PATH: `${bin}:/usr/bin:/bin`, HOME: tmp}, maxBuffer: 16 * MiB});
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = /RSS (\d+)/.exec(fs.readFileSync(path.join(tmp, `time`), `utf8`));
  const line = (result.stderr.split(`\n`).find(text => text.startsWith(`error:`)) ?? result.stderr.split(`\n`)[0] ?? ``).slice(0, 110);
  const exit = Number(/Command exited with non-zero status (\d+)/.exec(fs.readFileSync(path.join(tmp, `time`), `utf8`))?.[1] ?? result.status ?? -1);
  return {rssMiB: rss === null ? NaN : Number(rss[1]) / 1024, seconds, exit, line};
}

const baseline = run([`version`, `--client`], `none`, false);
console.log(`peak RSS at ${(BYTES / MiB).toFixed(0)} MiB of input (baseline: \`version --client\` ${baseline.rssMiB.toFixed(1)} MiB)\n`);
console.log(`| input | cap | pipe: peak RSS | /dev/zero: peak RSS | exit | error line |`);
console.log(`|---|---|---|---|---|---|`);
try {
  for (const item of cases) {
    if (values.only !== undefined && !item.label.includes(values.only))
      continue;
    const piped = item.fixedInput ? run(item.argv(``), `none`, false) : run(item.argv(`/dev/stdin`), `pipe`, item.stdin === true);
    const zero = item.fixedInput ? undefined : run(item.argv(`/dev/zero`), `zero`, item.stdin === true);
    const cell = (measure: Measure | undefined) => measure === undefined ? `(same)` : `${measure.rssMiB.toFixed(1)} MiB (${measure.seconds.toFixed(1)} s)`;
    console.log(`| ${item.label} | ${item.cap} | ${cell(piped)} | ${cell(zero)} | ${piped.exit} | ${piped.line.replace(/\|/g, `\\|`).replace(new RegExp(tmp, `g`), `…`)} |`);
  }
} finally {
  fs.rmSync(tmp, {recursive: true, force: true});
}
