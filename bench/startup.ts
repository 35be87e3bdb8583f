// `npm run bench:startup`: the single-executable binary against the real kubectl binary, side by side in one run.
//   add --dry-run=client -o json (password on stdin)  vs  kubectl create secret docker-registry --dry-run=client -o json   goal ≤ 0.8×
//   kubectl-pullsecret --help                          vs  kubectl version --client                                       goal ≤ 0.8×
//   decode NAME -n NS  (one API call)                  vs  kubectl get secret NAME -n NS -o json                          goal ≤ 1.0×
//   list -n NS  (the audit of one namespace)           vs  kubectl get secrets,serviceaccounts,pods,deployments -n NS -o json  goal ≤ 1.0×
//   list -n NS                                          vs  kubectl get (the ten kinds list reads) -n NS -o json        for reference, no goal
// plus peak RSS of each command (goal ≤ 60 MiB for the one-call commands: add, decode).
//
// The cluster is the HTTPS API emulator (tests/helpers/apiEmulator) with a kubeconfig as a real one has: a bearer token
// and the cluster CA; it speaks HTTP/2 as real API servers do. kubectl keeps its discovery cache in the private HOME across runs, as on a user's machine.
// "kubectl" is the real versioned binary: the `kubectl` on PATH may be Google's version dispatcher, which asks the
// server's /version and then runs the kubectl.1.<minor> beside it (adding its own start-up); the benchmark runs that
// kubectl.1.<minor> directly, and `kubectl` itself when there is none.
// Runs are interleaved (one round runs every command once, in a rotating order) so that the load of a shared machine
// hits both sides alike; the goals are on median wall times. The mean CPU time (user + system) of each command is
// shown too (Linux), which a loaded machine disturbs far less. Peak RSS comes from GNU time (Debian: time) when installed.
// Options: --runs N (default 30), --warmup N (default 3), --rss-runs N (default 5), --no-build (use dist/ as it is),
// --binary PATH (measure another build, e.g. an older one kept for a before/after comparison; implies --no-build).
// On a machine shared with other work, give the benchmark its own scheduling group so that other sessions' load does
// not swamp both sides (Linux, as root): setsid sh -c 'echo -15 > /proc/self/autogroup; exec nice -n -15 npm run bench:startup'
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {startApiEmulator} from '../tests/helpers/apiEmulator/index.ts';
import type {ApiEmulator} from '../tests/helpers/apiEmulator/index.ts';

const ROOT = path.resolve(import.meta.dirname, `..`);
const {values} = parseArgs({options: {runs: {type: `string`, default: `30`}, warmup: {type: `string`, default: `3`}, 'rss-runs': {type: `string`, default: `5`}, 'no-build': {type: `boolean`}, binary: {type: `string`}}});
const BINARY = values.binary === undefined ? path.join(ROOT, `dist`, `kubectl-pullsecret`) : path.resolve(values.binary);
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const rssRuns = Number(values[`rss-runs`]);
const NAMESPACE = `ci`;
const SECRET = `regcred`;
const MIB = 1024 * 1024;
/** The kinds `list -n` reads (sources/core/audit): secrets, ServiceAccounts, pods and every workload kind. */
const LIST_KINDS = `secrets,serviceaccounts,pods,deployments,statefulsets,daemonsets,replicasets,replicationcontrollers,jobs,cronjobs`;

type Case = {label: string; argv: string[]; stdin?: string};
/** A pair to compare; `goal` null: shown for reference, not a goal. */
type Pair = {ours: Case; theirs: Case; goal: number | null; oneCall: boolean};

function which(program: string): string | null {
  const result = spawnSync(`sh`, [`-c`, `command -v "$1"`, `sh`, program], {encoding: `utf8`});
  return result.status === 0 ? result.stdout.trim() : null;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * CPU time (user + system, ms) of this process's waited-for children, from /proc/self/stat (Linux; in clock ticks of
 * 10 ms, so it is summed over many runs). Unlike wall time it hardly moves with the load of a shared machine.
 */
function childrenCpuMs(): number | null {
  try {
    const fields = fs.readFileSync(`/proc/self/stat`, `utf8`).replace(/^.*\) /s, ``).split(` `);
    // After the command name: state is field 3, cutime field 16 and cstime field 17 of proc(5).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/** Runs one command asynchronously (the emulator shares this event loop); resolves to wall ms, children's CPU ms, exit code and stderr. */
function runOnce(argv: string[], stdin: string | undefined, env: NodeJS.ProcessEnv): Promise<{ms: number; cpuMs: number | null; code: number; stderr: string}> {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuMs();
    const started = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), {env, stdio: [`pipe`, `ignore`, `pipe`]});
    let stderr = ``;
    child.stderr.on(`data`, (chunk: Buffer) => {
      stderr += String(chunk);
    });
    child.on(`error`, reject);
    child.on(`close`, code => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpuAfter = childrenCpuMs();
      resolve({ms, cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore, code: code ?? -1, stderr});
    });
    child.stdin.end(stdin ?? ``);
  });
}

/** The server's minor version, asked as the dispatcher asks it (GET /version over TLS, trusting the cluster CA). */
function serverMinor(api: ApiEmulator): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get(`${api.url}/version`, {ca: api.caPem, headers: {Authorization: `Bearer ${api.tokens.admin}`}}, response => {
      let body = ``;
      response.on(`data`, (chunk: Buffer) => {
        body += String(chunk);
      });
      response.on(`end`, () => resolve(String((JSON.parse(body) as {minor: string}).minor).replace(/\D+$/, ``)));
    }).on(`error`, reject);
  });
}

/** The kubectl binary that runs for this cluster: `kubectl.1.<minor>` beside a version dispatcher, else `kubectl` itself. */
function realKubectl(onPath: string, minor: string): string {
  const versioned = path.join(path.dirname(fs.realpathSync(onPath)), `kubectl.1.${minor}`);
  try {
    fs.accessSync(versioned, fs.constants.X_OK);
    return versioned;
  } catch {
    return onPath;
  }
}

function seed(api: ApiEmulator): void {
  const dockerconfig = (user: string, password: string) => Buffer.from(JSON.stringify({auths: {'registry.example.com': {username: user, password, auth: Buffer.from(`${user}:${password}`).toString(`base64`)}}})).toString(`base64`);
  api.seed.namespace(NAMESPACE);
  api.seed.secret(NAMESPACE, {metadata: {name: SECRET}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfig(`ci-bot`, `bench-password`)}});
  api.seed.secret(NAMESPACE, {metadata: {name: `old-regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfig(`old-bot`, `old-password`)}});
  api.seed.secret(NAMESPACE, {metadata: {name: `app-config`}, type: `Opaque`, data: {key: Buffer.from(`value`).toString(`base64`)}});
  api.seed.serviceAccount(NAMESPACE, `builder`, {imagePullSecrets: [SECRET]});
  for (let i = 0; i < 3; i++)
    api.seed.workload(`Deployment`, NAMESPACE, `app-${i}`, {containers: [{name: `app`, image: `registry.example.com/team/app-${i}:1.0`}], imagePullSecrets: [{name: SECRET}]});
  for (let i = 0; i < 5; i++)
    api.seed.pod(NAMESPACE, `app-${i % 3}-pod-${i}`, {containers: [{name: `app`, image: `registry.example.com/team/app-${i % 3}:1.0`}], imagePullSecrets: [{name: SECRET}]});
}

/** Peak RSS in bytes of `runs` runs (median), measured by GNU time; null without it. */
async function peakRss(c: Case, env: NodeJS.ProcessEnv, gnuTime: string | null, dir: string): Promise<number | null> {
  if (!gnuTime || rssRuns <= 0)
    return null;
  const out = path.join(dir, `rss.txt`);
  const samples: number[] = [];
  for (let i = 0; i < rssRuns; i++) {
    const result = await runOnce([gnuTime, `-f`, `%M`, `-o`, out, ...c.argv], c.stdin, env);
    if (result.code !== 0)
      throw new Error(`${c.label} under GNU time exited with ${result.code}: ${result.stderr.trim()}`);
    samples.push(Number(fs.readFileSync(out, `utf8`).trim().split(`\n`).pop()) * 1024);
  }
  return median(samples);
}

async function main(): Promise<void> {
  if (!values[`no-build`] && values.binary === undefined) {
    const build = spawnSync(process.execPath, [path.join(ROOT, `scripts`, `build.ts`), `--no-typecheck`], {cwd: ROOT, stdio: [`ignore`, `ignore`, `inherit`]});
    if (build.status !== 0)
      throw new Error(`the build failed`);
  }
  const onPath = which(`kubectl`);
  if (!onPath)
    throw new Error(`kubectl is not on PATH`);
  const gnuTime = fs.existsSync(`/usr/bin/time`) && spawnSync(`/usr/bin/time`, [`-f`, `%M`, `true`], {encoding: `utf8`}).status === 0 ? `/usr/bin/time` : null;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-bench-`));
  // HTTP/2 (ALPN) as well as HTTP/1.1, as a real API server speaks: kubectl and the plugin both use it then.
  const api = await startApiEmulator({http2: true});
  try {
    seed(api);
    const kubectl = realKubectl(onPath, await serverMinor(api));
    const kubeconfig = path.join(home, `kubeconfig`);
    api.writeKubeconfig(kubeconfig);
    // A private HOME: neither tool reads the caller's kubeconfig; kubectl's discovery cache lives (and stays warm) there.
    const env = {PATH: `${path.dirname(BINARY)}${path.delimiter}${process.env.PATH ?? ``}`, HOME: home};
    const cluster = [`--kubeconfig`, kubeconfig];
    const list: Case = {label: `list -n ${NAMESPACE}`, argv: [BINARY, `list`, `-n`, NAMESPACE, ...cluster]};
    const pairs: Pair[] = [
      {
        ours: {label: `add --dry-run=client -o json`, argv: [BINARY, `add`, `x`, `--docker-server`, `r.example.com`, `--docker-username`, `u`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`], stdin: `p`},
        theirs: {label: `kubectl create secret docker-registry --dry-run=client -o json`, argv: [kubectl, `create`, `secret`, `docker-registry`, `x`, `--docker-server=r.example.com`, `--docker-username=u`, `--docker-password=p`, `--dry-run=client`, `-o`, `json`]},
        goal: 0.8,
        oneCall: true,
      },
      {
        ours: {label: `--help`, argv: [BINARY, `--help`]},
        theirs: {label: `kubectl version --client`, argv: [kubectl, `version`, `--client`]},
        goal: 0.8,
        oneCall: false,
      },
      {
        ours: {label: `decode ${SECRET} -n ${NAMESPACE}`, argv: [BINARY, `decode`, SECRET, `-n`, NAMESPACE, ...cluster]},
        theirs: {label: `kubectl get secret ${SECRET} -n ${NAMESPACE} -o json`, argv: [kubectl, `get`, `secret`, SECRET, `-n`, NAMESPACE, `-o`, `json`, ...cluster]},
        goal: 1.0,
        oneCall: true,
      },
      {
        ours: list,
        theirs: {label: `kubectl get secrets,serviceaccounts,pods,deployments -n ${NAMESPACE} -o json`, argv: [kubectl, `get`, `secrets,serviceaccounts,pods,deployments`, `-n`, NAMESPACE, `-o`, `json`, ...cluster]},
        goal: 1.0,
        oneCall: false,
      },
      // list reads ten kinds (every workload kind can reference a pull secret); kubectl reading the same ten.
      {
        ours: list,
        theirs: {label: `kubectl get (the ${LIST_KINDS.split(`,`).length} kinds list reads) -n ${NAMESPACE} -o json`, argv: [kubectl, `get`, LIST_KINDS, `-n`, NAMESPACE, `-o`, `json`, ...cluster]},
        goal: null,
        oneCall: false,
      },
    ];
    const cases = [...new Set(pairs.flatMap(pair => [pair.ours, pair.theirs]))];
    for (const c of cases) {
      const check = await runOnce(c.argv, c.stdin, env);
      if (check.code !== 0)
        throw new Error(`${c.label} fails (exit ${check.code}): ${check.stderr.trim()}`);
    }

    // Interleaved rounds: each round runs every command once, starting one further along the list each time.
    const times = new Map<Case, number[]>(cases.map(c => [c, []]));
    const cpu = new Map<Case, number[]>(cases.map(c => [c, []]));
    for (let round = 0; round < warmup + runs; round++) {
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(round + i) % cases.length]!;
        const result = await runOnce(c.argv, c.stdin, env);
        if (result.code !== 0)
          throw new Error(`${c.label} exited with ${result.code}: ${result.stderr.trim()}`);
        if (round >= warmup) {
          times.get(c)!.push(result.ms);
          if (result.cpuMs !== null)
            cpu.get(c)!.push(result.cpuMs);
        }
      }
    }
    const rss = new Map<Case, number | null>();
    for (const c of cases)
      rss.set(c, await peakRss(c, env, gnuTime, home));

    const kubectlVersion = spawnSync(kubectl, [`version`, `--client`], {env, encoding: `utf8`}).stdout.split(`\n`)[0]!.trim();
    const binaryVersion = spawnSync(BINARY, [`version`], {env, encoding: `utf8`}).stdout.trim();
    const [load1] = os.loadavg();
    const out: string[] = [];
    out.push(`start-up benchmark (interleaved spawn loop; ${warmup} warm-up + ${runs} rounds; ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? `unknown CPU`}; load average ${load1!.toFixed(2)})`);
    out.push(`  ${binaryVersion}, binary ${fs.statSync(BINARY).size.toLocaleString(`en`)} bytes`);
    out.push(`  kubectl: ${kubectl} (${kubectlVersion})${kubectl === onPath ? `` : `, the binary the dispatcher ${onPath} runs for this cluster`}`);
    out.push(`  cluster: the HTTPS API emulator (HTTP/2 and HTTP/1.1, bearer token + CA in the kubeconfig), namespace ${NAMESPACE}`);
    out.push(``);
    const width = Math.max(...cases.map(c => c.label.length));
    const meanCpu = (c: Case) => {
      const xs = cpu.get(c)!;
      return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    out.push(`  ${`command`.padEnd(width)}  median ms   min ms   max ms  CPU ms (mean)  peak RSS MiB`);
    for (const c of cases) {
      const xs = times.get(c)!;
      const r = rss.get(c);
      const cpuMs = meanCpu(c);
      out.push(`  ${c.label.padEnd(width)}  ${median(xs).toFixed(1).padStart(9)}  ${Math.min(...xs).toFixed(1).padStart(7)}  ${Math.max(...xs).toFixed(1).padStart(7)}  ${(cpuMs === null ? `-` : cpuMs.toFixed(1)).padStart(13)}  ${r == null ? `-` : (r / MIB).toFixed(1).padStart(12)}`);
    }
    out.push(``);
    let met = 0;
    let total = 0;
    for (const pair of pairs) {
      const ratio = median(times.get(pair.ours)!) / median(times.get(pair.theirs)!);
      const [ourCpu, theirCpu] = [meanCpu(pair.ours), meanCpu(pair.theirs)];
      const cpuRatio = ourCpu !== null && theirCpu !== null && theirCpu > 0 ? `CPU ${(ourCpu / theirCpu).toFixed(2)}×` : ``;
      if (pair.goal === null) {
        out.push(`  ${pair.ours.label} / ${pair.theirs.label}: ${ratio.toFixed(2)}× (for reference${cpuRatio === `` ? `` : `; ${cpuRatio}`})`);
        continue;
      }
      total++;
      met += ratio <= pair.goal ? 1 : 0;
      out.push(`  ${pair.ours.label} / ${pair.theirs.label}: ${ratio.toFixed(2)}× (goal ≤ ${pair.goal.toFixed(1)}×: ${ratio <= pair.goal ? `met` : `NOT met`}${cpuRatio === `` ? `` : `; ${cpuRatio}`})`);
    }
    if (gnuTime) {
      for (const pair of pairs.filter(p => p.oneCall)) {
        const ours = rss.get(pair.ours)!;
        const theirs = rss.get(pair.theirs)!;
        total++;
        met += ours <= 60 * MIB ? 1 : 0;
        out.push(`  peak RSS of ${pair.ours.label}: ${(ours / MIB).toFixed(1)} MiB vs kubectl ${(theirs / MIB).toFixed(1)} MiB (goal ≤ 60 MiB: ${ours <= 60 * MIB ? `met` : `NOT met`})`);
      }
    } else {
      out.push(`  peak RSS: not measured (GNU time is not installed; Debian: time)`);
    }
    out.push(`  goals met: ${met} of ${total}`);
    process.stdout.write(`${out.join(`\n`)}\n`);
  } finally {
    await api.stop();
    fs.rmSync(home, {recursive: true, force: true});
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
