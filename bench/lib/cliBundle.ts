// The CLI a verify benchmark runs in a child process: the shipped bundle (scripts/lib/sea.ts), or with BENCH_CPU_PROF
// an unminified one (readable names in the profile). The bundle does not run by itself (the single executable's
// sources/seaMain.ts calls its `main`), so a one-line runner next to it does what seaMain does.
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import {bundle} from '../../scripts/lib/sea.ts';

const ROOT = path.resolve(import.meta.dirname, `..`, `..`);

/** Builds the CLI into `dir`; returns the script to run with `node` (SEA_EXEC_ARGV) and the CLI's arguments. */
export async function buildBenchCli(dir: string, options: {readable: boolean}): Promise<string> {
  const outfile = path.join(dir, `kubectl-pullsecret.cjs`);
  if (!options.readable)
    await bundle({outfile, clientNodeOutfile: path.join(dir, `client-node.cjs`), seaMainOutfile: path.join(dir, `sea-main.cjs`)});
  else
    await esbuild.build({entryPoints: [path.join(ROOT, `sources`, `main.ts`)], outfile, bundle: true, platform: `node`, target: `node24`, format: `cjs`, define: {__PULLSECRET_VERSION__: `"bench"`, __PULLSECRET_COMMIT__: `"bench"`, 'import.meta.main': `false`}, logLevel: `warning`});
  const runner = path.join(dir, `run.cjs`);
  fs.writeFileSync(runner, `require(${JSON.stringify(outfile)}).main();\n`);
  return runner;
}
