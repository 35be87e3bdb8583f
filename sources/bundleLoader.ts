// Compiles the plugin's CommonJS bundle as the single executable runs it (sources/seaMain.ts) and as the build runs
// it to write its V8 code cache (scripts/lib/codeCache.ts): the same wrapper text and file name on both sides,
// as V8 accepts a cache only for the very source it was made from.
import vm from 'node:vm';

/** The asset key of the bundle in the executable (scripts/lib/sea.ts stores it). */
export const BUNDLE_ASSET = `kubectl-pullsecret.cjs`;

/**
 * The commands with a code cache of their own, written after a warm-up of that command alone (sources/warmup.ts):
 * a cache holds the bytecode of every function its warm-up ran, and a start deserializes all of it, so one cache
 * for every command would make `--help` pay for `list`. Every other run uses the default cache, which holds only
 * what evaluating the bundle compiles.
 */
export const CODE_CACHE_GROUPS = [`add`, `decode`, `list`] as const;

/** The asset key of a code cache (the default one without a group). */
export function codeCacheAsset(group?: string): string {
  return group === undefined ? `kubectl-pullsecret.cache` : `kubectl-pullsecret.${group}.cache`;
}

/** The code cache for a command line: its command's own, else the default (a wrong guess only costs time). */
export function codeCacheGroupOf(argv: readonly string[]): string | undefined {
  return argv.find(word => (CODE_CACHE_GROUPS as readonly string[]).includes(word));
}

/** The file name the bundle is compiled under (stack traces show it). */
const FILENAME = `kubectl-pullsecret.cjs`;

/** The bundle, wrapped like a CommonJS module. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/**
 * Compiles and evaluates the bundle with `cachedData` (when given); returns its exports, whether V8 refused the
 * cache (another Node version or architecture: then it compiled from source), and the script, whose
 * `createCachedData()` the build calls after the warm-up. `load` serves the bundle's `require` of built-in modules.
 */
export function compileBundle(source: string, cachedData: Uint8Array | undefined, load: (id: string) => unknown): {exports: Record<string, unknown>; cacheRejected: boolean; script: vm.Script} {
  const script = new vm.Script(wrap(source), {filename: FILENAME, ...(cachedData === undefined ? {} : {cachedData})});
  const module = {exports: {} as Record<string, unknown>};
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, load, module, FILENAME, `.`);
  return {exports: module.exports, cacheRejected: script.cachedDataRejected === true, script};
}
