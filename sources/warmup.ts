// Start-up warm-up for the single executable's V8 startup snapshot (scripts/lib/sea.ts, sources/main.ts).
// V8 compiles a function the first time it runs; functions compiled while the snapshot is made keep
// their bytecode in it, and `add`'s compiled clipanion parser stays in it too (see buildCli in cli.ts).
// Running the print-only fast paths once at build time therefore saves the binary that work on every
// start: `add … --dry-run=client -o json` about 3 ms for the bytecode and 6 ms for the parser.
// Each parser kept costs every start some deserialization, so only `add`'s is warmed up.
import {Readable, Writable} from 'node:stream';
import {runPullSecret} from './cli.ts';
import type {PullSecretContext} from './context.ts';
import {ExitCode} from './core/errors.ts';

/** The runs of the warm-up: print-only commands that need no file, cluster, registry or terminal. */
const WARM_UP_RUNS: string[][] = [
  [`--help`],
  [`add`, `warm-up`, `--docker-server`, `registry.example.com`, `--docker-username`, `user`, `--docker-password-stdin`, `--dry-run=client`, `-o`, `json`],
];

/**
 * Runs `--help` and a client-side dry run of `add` against in-memory stdio and an empty environment,
 * so that the code they use is compiled before the snapshot is taken. Touches no file, process, network
 * or clock state that outlives it; throws when a run does not succeed, which fails the build.
 */
export async function warmUp(): Promise<void> {
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
