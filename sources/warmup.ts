// Start-up warm-up for the single executable's V8 startup snapshot (scripts/lib/sea.ts, sources/main.ts).
// V8 compiles a function the first time it runs; functions compiled while the snapshot is made keep
// their bytecode in it, and the compiled clipanion parsers of the commands run stay in it too (see buildCli
// in cli.ts). Running the print-only fast paths once at build time therefore saves the binary that work on
// every start: `add … --dry-run=client -o json` about 3 ms for the bytecode and 6 ms for the parser.
// Each parser kept costs every start some deserialization, so only those of the commands people run all day
// are kept: add, decode and list (`decode` and `list` against the emulator 4-5 ms faster, --help unchanged).
import {Readable, Writable} from 'node:stream';
import {runPullSecret} from './cli.ts';
import type {PullSecretContext} from './context.ts';
import {ExitCode} from './core/errors.ts';
import {parseKubeconfig} from './adapters/kube/kubeconfig.ts';

/** The runs of the warm-up: print-only commands that need no file, cluster, registry or terminal. */
const WARM_UP_RUNS: string[][] = [
  [`--help`],
  [`add`, `warm-up`, `--docker-server`, `registry.example.com`, `--docker-username`, `user`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`],
  [`decode`, `--help`],
  [`list`, `--help`],
];

/**
 * Built-in modules that the cluster and registry adapters load on first use and that a startup snapshot can
 * hold; loaded at build time, they cost the binary nothing when a command connects (node:crypto alone is about
 * 15 modules). node:http, node:https and node:tls (and _http_common, _http_client, _tls_wrap) cannot be in a
 * snapshot: V8 rejects their native handles, so they stay behind the adapters' lazy imports.
 */
const SNAPSHOT_BUILTINS = [`node:crypto`, `node:zlib`, `node:net`, `node:dns`, `node:stream`, `_http_agent`, `_http_incoming`];

/**
 * Kubeconfigs shaped like the ones clusters hand out (a CA, a bearer token, an exec plugin, two contexts), made up
 * here: the first in the block style that `kubectl config` writes (read by the fast reader), the second with flow
 * collections (read by the yaml package). Parsing them compiles both readers' code for every command that reads a
 * kubeconfig. They hold no real key or token.
 */
const WARM_UP_KUBECONFIGS = [`apiVersion: v1
kind: Config
preferences: {}
clusters:
- cluster:
    certificate-authority-data: d2FybS11cA==
    server: https://127.0.0.1:6443
    tls-server-name: warm-up.example
  name: warm-up
contexts:
- context:
    cluster: warm-up
    namespace: default
    user: warm-up
  name: warm-up
- context:
    cluster: warm-up
    user: "exec"
  name: 'other'
current-context: warm-up
users:
- name: warm-up
  user:
    token: not-a-token
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      args:
      - --flag
      command: warm-up
      env: null
      interactiveMode: Never
      provideClusterInfo: true
`, `apiVersion: v1
clusters: [{name: warm-up, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
contexts:
  - {name: warm-up, context: {cluster: warm-up, user: warm-up}}
current-context: warm-up
users:
  - name: warm-up
    user:
      exec: {apiVersion: client.authentication.k8s.io/v1, command: warm-up, args: ["--flag", value]}
`];

/**
 * Runs `--help` and a client-side dry run of `add` against in-memory stdio and an empty environment,
 * so that the code they use is compiled before the snapshot is taken. Touches no file, process, network
 * or clock state that outlives it; throws when a run does not succeed, which fails the build.
 */
export async function warmUp(): Promise<void> {
  for (const name of SNAPSHOT_BUILTINS)
    process.getBuiltinModule(name);
  for (const text of WARM_UP_KUBECONFIGS)
    parseKubeconfig(text, `warm-up`);
  for (const argv of WARM_UP_RUNS) {
    let errors = ``;
    const unavailable = async (): Promise<never> => {
      throw new Error(`not available during the warm-up`);
    };
    const context: PullSecretContext = {
      env: {},
      stdin: Readable.from([`password`]),
      stdout: new Writable({write: (_chunk, _encoding, done) => done()}),
      stderr: new Writable({write: (chunk: Buffer, _encoding, done) => { errors += String(chunk); done(); }}),
      colorDepth: 1,
      homedir: `/nonexistent`,
      cwd: `/nonexistent`,
      nodeVersion: `warm-up`,
      connectCluster: unavailable,
      makeRegistryProbe: unavailable,
      runCredentialHelper: unavailable,
      runPasswordCommand: unavailable,
      now: () => new Date(0),
      sleep: async () => {},
      random: () => 0,
    };
    const code = await runPullSecret(argv, context);
    if (code !== ExitCode.ok)
      throw new Error(`the start-up warm-up \`${argv.join(` `)}\` exited with ${code}: ${errors.trim()}`);
  }
}
