// `npm run bench:startup`: start-up of the single-executable binary against kubectl, in one run.
//   add --dry-run=client -o json (password on stdin)  vs  kubectl create secret docker-registry --dry-run=client -o json
//   kubectl-pullsecret --help                          vs  kubectl version --client
// Uses hyperfine when installed (Debian: hyperfine), else a spawn loop with warm-up; prints medians and ratios.
// Options: --runs N (default 30), --warmup N (default 3), --no-build (use dist/ as it is).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';

const ROOT = path.resolve(import.meta.dirname, `..`);
const BINARY = path.join(ROOT, `dist`, `kubectl-pullsecret`);
const {values} = parseArgs({options: {runs: {type: `string`, default: `30`}, warmup: {type: `string`, default: `3`}, 'no-build': {type: `boolean`}}});
const runs = Number(values.runs);
const warmup = Number(values.warmup);

type Case = {label: string; argv: string[]; stdin?: string};
type Result = {label: string; medianMs: number; minMs: number; maxMs: number};

function which(program: string): string | null {
  const result = spawnSync(`sh`, [`-c`, `command -v "$1"`, `sh`, program], {encoding: `utf8`});
  return result.status === 0 ? result.stdout.trim() : null;
}

const quote = (word: string) => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** hyperfine in shell mode (it subtracts the shell's own start-up), so that stdin can be piped in. */
function measureWithHyperfine(cases: Case[], env: NodeJS.ProcessEnv, dir: string): Result[] {
  const json = path.join(dir, `hyperfine.json`);
  const commands = cases.map(c => c.stdin === undefined ? c.argv.map(quote).join(` `) : `printf %s ${quote(c.stdin)} | ${c.argv.map(quote).join(` `)}`);
  const result = spawnSync(`hyperfine`, [`--style`, `none`, `--warmup`, String(warmup), `--runs`, String(runs), `--export-json`, json, ...cases.flatMap((c, i) => [`--command-name`, c.label, commands[i]!])], {env, encoding: `utf8`, stdio: [`ignore`, `pipe`, `inherit`]});
  if (result.status !== 0)
    throw new Error(`hyperfine failed: ${result.stdout}`);
  const data = JSON.parse(fs.readFileSync(json, `utf8`)) as {results: Array<{command: string; median: number; min: number; max: number}>};
  return data.results.map(r => ({label: r.command, medianMs: r.median * 1000, minMs: r.min * 1000, maxMs: r.max * 1000}));
}

/** The fallback: spawn each command `warmup` times unmeasured, then `runs` times, timing each spawn. */
function measureWithSpawnLoop(cases: Case[], env: NodeJS.ProcessEnv): Result[] {
  return cases.map(c => {
    const times: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const started = process.hrtime.bigint();
      const result = spawnSync(c.argv[0]!, c.argv.slice(1), {env, input: c.stdin ?? ``, stdio: [`pipe`, `ignore`, `ignore`]});
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0)
        throw new Error(`${c.label} exited with ${result.status}`);
      if (i >= warmup)
        times.push(elapsed);
    }
    return {label: c.label, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times)};
  });
}

function main(): void {
  if (!values[`no-build`]) {
    const build = spawnSync(process.execPath, [path.join(ROOT, `scripts`, `build.ts`), `--no-typecheck`], {cwd: ROOT, stdio: [`ignore`, `ignore`, `inherit`]});
    if (build.status !== 0)
      throw new Error(`the build failed`);
  }
  const kubectl = which(`kubectl`);
  if (!kubectl)
    throw new Error(`kubectl is not on PATH`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-bench-`));
  try {
    // A private HOME: neither tool reads the caller's kubeconfig; both work fully offline here.
    const env = {PATH: `${path.dirname(BINARY)}${path.delimiter}${process.env.PATH ?? ``}`, HOME: home};
    const hasAdd = spawnSync(BINARY, [`add`, `--help`], {env, stdio: `ignore`}).status === 0;
    const cases: Case[] = [];
    if (hasAdd) {
      cases.push(
        {label: `kubectl-pullsecret add --dry-run=client -o json`, argv: [BINARY, `add`, `x`, `--docker-server`, `r.example.com`, `--docker-username`, `u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`], stdin: `p`},
        {label: `kubectl create secret docker-registry --dry-run=client -o json`, argv: [kubectl, `create`, `secret`, `docker-registry`, `x`, `--docker-server=r.example.com`, `--docker-username=u`, `--docker-password=p`, `--dry-run=client`, `-o`, `json`]},
      );
    } else {
      process.stderr.write(`bench: the add command is not built yet; measuring --help and version only\n`);
    }
    cases.push(
      {label: `kubectl-pullsecret --help`, argv: [BINARY, `--help`]},
      {label: `kubectl version --client`, argv: [kubectl, `version`, `--client`]},
      {label: `kubectl pullsecret --help (through kubectl)`, argv: [kubectl, `pullsecret`, `--help`]},
    );
    for (const c of cases) {
      const check = spawnSync(c.argv[0]!, c.argv.slice(1), {env, input: c.stdin ?? ``, encoding: `utf8`});
      if (check.status !== 0)
        throw new Error(`${c.label} fails: ${check.stderr.trim()}`);
    }
    const tool = which(`hyperfine`) ? `hyperfine ${spawnSync(`hyperfine`, [`--version`], {encoding: `utf8`}).stdout.trim().split(` `)[1]}` : `spawn loop`;
    const results = tool.startsWith(`hyperfine`) ? measureWithHyperfine(cases, env, home) : measureWithSpawnLoop(cases, env);
    const byLabel = new Map(results.map(r => [r.label, r]));
    const kubectlVersion = spawnSync(kubectl, [`version`, `--client`], {env, encoding: `utf8`}).stdout.split(`\n`)[0]!.trim();
    const binaryVersion = spawnSync(BINARY, [`version`], {env, encoding: `utf8`}).stdout.trim();

    const out: string[] = [];
    out.push(`start-up benchmark (${tool}; ${warmup} warm-up + ${runs} runs each; ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? `unknown CPU`})`);
    out.push(`  ${binaryVersion}, binary ${fs.statSync(BINARY).size.toLocaleString(`en`)} bytes`);
    out.push(`  kubectl: ${kubectl} (${kubectlVersion})`);
    out.push(``);
    const width = Math.max(...results.map(r => r.label.length));
    out.push(`  ${`command`.padEnd(width)}  median ms   min ms   max ms`);
    for (const r of results)
      out.push(`  ${r.label.padEnd(width)}  ${r.medianMs.toFixed(1).padStart(9)}  ${r.minMs.toFixed(1).padStart(7)}  ${r.maxMs.toFixed(1).padStart(7)}`);
    out.push(``);
    const ratio = (a: string, b: string) => {
      const x = byLabel.get(a);
      const y = byLabel.get(b);
      if (x && y)
        out.push(`  ${a} / ${b}: ${(x.medianMs / y.medianMs).toFixed(2)}×`);
    };
    ratio(`kubectl-pullsecret add --dry-run=client -o json`, `kubectl create secret docker-registry --dry-run=client -o json`);
    ratio(`kubectl-pullsecret --help`, `kubectl version --client`);
    process.stdout.write(`${out.join(`\n`)}\n`);
  } finally {
    fs.rmSync(home, {recursive: true, force: true});
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench: error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
