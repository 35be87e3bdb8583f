// The single executable's main script (scripts/lib/sea.ts). It stays tiny: it reads the plugin's bundle from the
// executable (a SEA asset), compiles it with the V8 code cache that the build wrote after running the warm-up
// (scripts/lib/codeCache.ts), and calls the bundle's `main`. A code cache written after a warm-up holds the
// bytecode of every function the warm-up ran, unlike Node's own `useCodeCache`, which holds only what V8 compiles
// eagerly; and unlike a start-up snapshot, whose heap every start deserializes (about 11 ms and 11 MiB for an
// empty program here), it costs only what the command uses (docs/toolchain.md §3).
import path from 'node:path';
import {getRawAsset} from 'node:sea';
import {BUNDLE_ASSET, codeCacheAsset, codeCacheGroupOf, compileBundle} from './bundleLoader.ts';
import {BUILT_OVERVIEW, asksForOverview, pluginArguments} from './overview.ts';
import {stdoutWriter} from './exit.ts';

/** `--help` (and the other spellings of the overview) prints the text the build rendered, without the bundle. */
function printOverview(): boolean {
  if (BUILT_OVERVIEW === undefined || !asksForOverview(pluginArguments(path.basename(process.argv[1] ?? ``), process.argv.slice(2))))
    return false;
  // Without Node's stdout stream (node:tty, node:net and the stream modules) unless the write needs it.
  stdoutWriter().write(BUILT_OVERVIEW);
  return true;
}

if (!printOverview())
  runBundle();

function runBundle(): void {
  // The assets are read where the executable maps them (getRawAsset), not copied first: V8 and the decoder only read them.
  let cache: ArrayBuffer | undefined;
  try {
    cache = getRawAsset(codeCacheAsset(codeCacheGroupOf(process.argv.slice(2)))) as ArrayBuffer;
  } catch {
    // Cross-built binaries (macOS, Windows) carry no cache: the bundle is compiled as it is read.
  }
  const source = new TextDecoder().decode(new Uint8Array(getRawAsset(BUNDLE_ASSET) as ArrayBuffer));
  const {exports, cacheRejected} = compileBundle(source, cache === undefined ? undefined : new Uint8Array(cache), require);
  if (process.env.PULLSECRET_DEBUG_STARTUP !== undefined)
    process.stderr.write(`start-up: code cache ${cache === undefined ? `absent` : cacheRejected ? `rejected` : `accepted`}\n`);
  (exports as {main: () => void}).main();
}
