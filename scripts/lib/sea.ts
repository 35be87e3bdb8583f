// Build steps shared by `npm run build` (host binary) and `npm run release` (every platform):
// bundle with esbuild, make a Node single-executable blob, inject it into a Node binary with postject.
// Facts behind each choice are measured in docs/toolchain.md §2–§4.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import * as esbuild from 'esbuild';
import {BUNDLE_ASSET, CODE_CACHE_GROUPS, codeCacheAsset} from '../../sources/bundleLoader.ts';

/** The repository root (scripts/lib/ is two levels below it). */
export const ROOT = path.resolve(import.meta.dirname, `..`, `..`);
/** Where build outputs go. */
export const DIST = path.join(ROOT, `dist`);
/** The bundle every binary embeds. */
// In a subdirectory: a `kubectl-*` file beside the binary would show up in `kubectl plugin list` as a broken plugin.
export const BUNDLE = path.join(DIST, `bundle`, `kubectl-pullsecret.cjs`);
/** The single executable's main script (sources/seaMain.ts): it loads BUNDLE from the executable with its code cache. */
export const SEA_MAIN = path.join(DIST, `bundle`, `sea-main.cjs`);
/** @kubernetes/client-node as its own bundle, stored in the executable as a SEA asset (sources/adapters/kube/clientNodeAsset.ts). */
export const CLIENT_NODE_BUNDLE = path.join(DIST, `bundle`, `client-node.cjs`);
/** The asset's key; sources/adapters/kube/clientNodeAsset.ts reads it under this name. */
export const CLIENT_NODE_ASSET = `client-node.cjs`;
/** Node's documented SEA sentinel; postject flips it so the binary runs the embedded blob. */
export const SEA_FUSE = `NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2`;
/** The binary's name; `kubectl` finds plugins by the `kubectl-` prefix. */
export const BINARY_NAME = `kubectl-pullsecret`;
/** The completion executable kubectl looks for (`kubectl_complete-<plugin>`); a symlink to the binary. */
export const COMPLETION_NAME = `kubectl_complete-pullsecret`;

/** Runs a program, inheriting stderr; throws with the program's name when it fails. */
export function run(program: string, args: string[], options: {cwd?: string; quiet?: boolean; env?: NodeJS.ProcessEnv} = {}): string {
  const result = spawnSync(program, args, {cwd: options.cwd ?? ROOT, env: options.env ?? process.env, encoding: `utf8`, stdio: [`ignore`, `pipe`, options.quiet ? `pipe` : `inherit`], maxBuffer: 64 * 1024 * 1024});
  if (result.error)
    throw new Error(`could not run ${program}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${program} ${args.join(` `)} exited with ${result.status ?? result.signal}${options.quiet ? `: ${result.stderr.trim()}` : ``}`);
  return result.stdout;
}

/** True when `program` can be found on PATH. */
export function hasProgram(program: string): boolean {
  const result = spawnSync(process.platform === `win32` ? `where` : `sh`, process.platform === `win32` ? [program] : [`-c`, `command -v "$1"`, `sh`, program], {stdio: `ignore`});
  return result.status === 0;
}

/** The package.json version, e.g. `0.1.0`. */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, `package.json`), `utf8`)) as {version: string}).version;
}

/** The short git commit of HEAD, or `unknown` outside a git checkout. */
export function gitCommit(): string {
  const result = spawnSync(`git`, [`rev-parse`, `--short`, `HEAD`], {cwd: ROOT, encoding: `utf8`, stdio: [`ignore`, `pipe`, `ignore`]});
  return result.status === 0 && result.stdout.trim() !== `` ? result.stdout.trim() : `unknown`;
}

/**
 * Bundles `sources/main.ts` into one minified CommonJS file, and `sources/seaMain.ts` (the executable's main script,
 * which loads that bundle from the executable) into another. `@kubernetes/client-node` stays behind the kube
 * adapter's lazy `import()` of a local re-export module, and each command behind its loader in
 * sources/commands/table.ts: esbuild turns those imports into lazy initializers instead of real dynamic imports,
 * so a run evaluates only the modules of its own command. The `--help` overview is rendered here, from the
 * commands' own declarations, and defined into the bundle: `--help` loads no command.
 */
export async function bundle(options: {outfile?: string; clientNodeOutfile?: string; seaMainOutfile?: string; entry?: string; version?: string; commit?: string} = {}): Promise<{outfile: string; bytes: number; clientNodeBytes: number}> {
  const outfile = options.outfile ?? BUNDLE;
  const clientNodeOutfile = options.clientNodeOutfile ?? CLIENT_NODE_BUNDLE;
  const seaMainOutfile = options.seaMainOutfile ?? SEA_MAIN;
  const common = {bundle: true, platform: `node`, target: `node24`, format: `cjs`, minify: true, legalComments: `eof`, logLevel: `warning`} as const;
  const kubeAdapter = path.join(ROOT, `sources`, `adapters`, `kube`);
  const {COMMANDS} = await import(`../../sources/commands/all.ts`);
  const {renderOverview} = await import(`../../sources/cli.ts`);
  const overviewText = JSON.stringify(renderOverview(COMMANDS));
  const [main, clientNode, seaMain] = await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: [options.entry ?? path.join(ROOT, `sources`, `main.ts`)],
      outfile,
      define: {
        __PULLSECRET_VERSION__: JSON.stringify(options.version ?? packageVersion()),
        __PULLSECRET_COMMIT__: JSON.stringify(options.commit ?? gitCommit()),
        __PULLSECRET_OVERVIEW__: overviewText,
        // The bundle is evaluated by sources/seaMain.ts or by the code-cache warm-up, which call what they need.
        'import.meta.main': `false`,
      },
      // client-node stays out of the main bundle: the binary reads it from its asset.
      plugins: [{
        name: `client-node-from-asset`,
        setup(build) {
          build.onResolve({filter: /^\.\/clientNode\.ts$/}, args => args.resolveDir === kubeAdapter ? {path: path.join(kubeAdapter, `clientNodeAsset.ts`)} : undefined);
        },
      }, interopOnce(), yamlOnFirstUse(), clipanionStdioOnFirstUse()],
    }),
    esbuild.build({...common, entryPoints: [path.join(kubeAdapter, `clientNode.ts`)], outfile: clientNodeOutfile}),
    // The main script prints the overview itself (`--help` then evaluates no bundle at all).
    esbuild.build({...common, entryPoints: [path.join(ROOT, `sources`, `seaMain.ts`)], outfile: seaMainOutfile, define: {__PULLSECRET_OVERVIEW__: overviewText}}),
  ]);
  if (main.errors.length > 0 || clientNode.errors.length > 0 || seaMain.errors.length > 0)
    throw new Error(`esbuild failed`);
  const text = fs.readFileSync(outfile, `utf8`);
  assertNoDynamicImport(text, outfile);
  assertAscii(text, outfile);
  // `loadFromDefault` is a method of client-node's KubeConfig that minification keeps.
  if (text.includes(`loadFromDefault`))
    throw new Error(`${path.relative(ROOT, outfile)} still contains @kubernetes/client-node; it belongs in the ${CLIENT_NODE_ASSET} asset`);
  const clientNodeText = fs.readFileSync(clientNodeOutfile, `utf8`);
  assertNoDynamicImport(clientNodeText, clientNodeOutfile);
  assertNoDynamicImport(fs.readFileSync(seaMainOutfile, `utf8`), seaMainOutfile);
  return {outfile, bytes: Buffer.byteLength(text), clientNodeBytes: Buffer.byteLength(clientNodeText)};
}

/**
 * The binary reads its bundle as UTF-8 at every start: an ASCII text is decoded in half the time (0.3 ms less for the
 * 580 KB bundle) than one holding a single other character. esbuild escapes non-ASCII characters in string literals,
 * not in regular expressions, so one there fails the build (write it as an escape).
 */
function assertAscii(text: string, file: string): void {
  const other = /[^\x00-\x7f]/.exec(text);
  if (other !== null)
    throw new Error(`${path.relative(ROOT, file)} holds the non-ASCII character ${JSON.stringify(other[0])} in ${JSON.stringify(text.slice(Math.max(0, other.index - 40), other.index + 20))}: write it as an escape in the sources`);
}

/**
 * esbuild hands a CommonJS module to each ESM importer through `__toESM`, a fresh copy of all its exports: `decode`
 * made 25 such copies at start-up (clipanion's and typanion's ~50 exports into each of their importers, node:fs's
 * ~100 into each of its, the `yaml` stand-in's through its proxy), 1.3-2.2 ms in an instrumented bundle. In the bundle
 * the sources import these modules through one ESM facade each, so that importers read the facade's bindings:
 * - a Node built-in's facade takes the module with `require` (no copy) and exports it as the default and its plain
 *   data properties by name, read once (accessors such as `fs.promises` stay behind the default: reading them would
 *   load what they load);
 * - a bundled package's facade (clipanion, typanion, the yaml stand-in) re-exports it, which copies it once.
 * Only the bundle is built this way; `node sources/main.ts` and the tests import the modules as written, and the
 * facades export the very same objects.
 */
function interopOnce(): esbuild.Plugin {
  const NAMESPACE = `interop-once`;
  const SOURCES = path.join(ROOT, `sources`) + path.sep;
  const PACKAGES = new Set([`clipanion`, `typanion`, `yaml`]);
  const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
  const RESERVED = new Set(`await break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof let new null return static super switch this throw true try typeof var void while with yield`.split(` `));
  const builtinFacade = (specifier: string): string => {
    const module = process.getBuiltinModule(specifier) as Record<string, unknown>;
    const names = Object.getOwnPropertyNames(module).filter(name => IDENTIFIER.test(name) && !RESERVED.has(name) && `value` in Object.getOwnPropertyDescriptor(module, name)!);
    return `const m = require(${JSON.stringify(specifier)});\nexport default m;\nexport const {${names.join(`, `)}} = m;\n`;
  };
  return {
    name: NAMESPACE,
    setup(build) {
      build.onResolve({filter: /^(clipanion|typanion|yaml|node:[a-z_/]+)$/}, args => args.namespace === `file` && args.importer.startsWith(SOURCES) ? {path: args.path, namespace: NAMESPACE} : undefined);
      build.onLoad({filter: /.*/, namespace: NAMESPACE}, args => ({
        resolveDir: ROOT,
        loader: `js`,
        contents: PACKAGES.has(args.path) ? `export * from ${JSON.stringify(args.path)};\n` : builtinFacade(args.path),
      }));
    },
  };
}

/**
 * The `yaml` package (115 KB, about 50 modules) is imported by modules that most runs load (the Docker config reader
 * of the core, the kubeconfig reader) but used only for YAML input and `-o yaml`: evaluating it cost `add` and
 * `decode` a few ms of CPU and their code caches its bytecode. In the bundle, `yaml` is a stand-in whose named
 * exports (esbuild reads them as properties at each use) load the real package on first use. The core keeps its
 * plain `import ... from 'yaml'` (no dynamic import there); `node sources/main.ts` and the tests use the package as is.
 */
function yamlOnFirstUse(): esbuild.Plugin {
  const NAMESPACE = `yaml-on-first-use`;
  const keys = Object.keys(createRequire(import.meta.url)(`yaml`) as object);
  return {
    name: NAMESPACE,
    setup(build) {
      build.onResolve({filter: /^yaml$/}, args => args.namespace === NAMESPACE ? undefined : {path: `yaml`, namespace: NAMESPACE});
      build.onLoad({filter: /.*/, namespace: NAMESPACE}, () => ({
        resolveDir: ROOT,
        loader: `js`,
        contents: `const KEYS = ${JSON.stringify(keys)};
let real;
const load = () => real ??= require("yaml");
module.exports = new Proxy({}, {
  get: (_, key) => key === "__esModule" ? undefined : load()[key],
  has: (_, key) => KEYS.includes(key),
  ownKeys: () => [...KEYS],
  getOwnPropertyDescriptor: (_, key) => KEYS.includes(key) ? {enumerable: true, configurable: true, get: () => load()[key]} : undefined,
});
`,
      }));
    },
  };
}

/**
 * The text clipanion 3's CommonJS files must hold for `clipanionStdioOnFirstUse` (each patch replaces one exact
 * text, the number of times given): a clipanion upgrade that changes them fails the build instead of silently
 * bringing back node:tty and Node's stdio streams at every start.
 */
export const CLIPANION_PATCHES: Record<string, Array<{from: string; to: string; times: number}>> = {
  // Cli.defaultContext (process.stdin/stdout/stderr and the default colour depth) was built when the module loaded,
  // and spread into every context; it is now built on first read, and spread only when the given context lacks one
  // of its keys (ours never does), with the same result as before.
  [path.join(`lib`, `advanced`, `Cli.js`)]: [{
    from: `...Cli.defaultContext,\n            ...userContext,`,
    to: `...defaultContextFor(userContext),\n            ...userContext,`,
    times: 2,
  }, {
    from: `Cli.defaultContext = {\n    env: process.env,\n    stdin: process.stdin,\n    stdout: process.stdout,\n    stderr: process.stderr,\n    colorDepth: platform.getDefaultColorDepth(),\n};`,
    to: `let lazyDefaultContext;
Object.defineProperty(Cli, \`defaultContext\`, {
    configurable: true,
    enumerable: true,
    get: () => lazyDefaultContext !== undefined ? lazyDefaultContext : (lazyDefaultContext = {
        env: process.env,
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        colorDepth: platform.getDefaultColorDepth(),
    }),
    set: value => {
        lazyDefaultContext = value;
    },
});
const DEFAULT_CONTEXT_KEYS = [\`env\`, \`stdin\`, \`stdout\`, \`stderr\`, \`colorDepth\`];
function defaultContextFor(userContext) {
    const complete = typeof userContext === \`object\` && userContext !== null && DEFAULT_CONTEXT_KEYS.every(key => Object.prototype.propertyIsEnumerable.call(userContext, key));
    return complete ? {} : Cli.defaultContext;
}`,
    times: 1,
  }],
  // node:tty (which loads node:net and the stream modules) was required when the module loaded; now on first use
  // of getDefaultColorDepth, its only user.
  [path.join(`lib`, `platform`, `node.js`)]: [{
    from: `var tty = require('tty');\n\nfunction _interopDefaultLegacy (e) { return e && typeof e === 'object' && 'default' in e ? e : { 'default': e }; }\n\nvar tty__default = /*#__PURE__*/_interopDefaultLegacy(tty);\n`,
    to: `var ttyModule;\nvar tty__default = { get ['default']() { return ttyModule !== undefined ? ttyModule : (ttyModule = require('tty')); } };\n`,
    times: 1,
  }],
};

/** `text` with each patch applied; throws naming the file when a patch's text is not there exactly `times` times. */
export function applyExactPatches(text: string, patches: Array<{from: string; to: string; times: number}>, file: string): string {
  for (const patch of patches) {
    const found = text.split(patch.from).length - 1;
    if (found !== patch.times)
      throw new Error(`${file}: expected ${patch.times} occurrence(s) of the text to patch, found ${found}: ${JSON.stringify(patch.from.slice(0, 80))}`);
    text = text.split(patch.from).join(patch.to);
  }
  return text;
}

/**
 * clipanion creates Node's stdio streams (process.stdin, stdout, stderr) and requires node:tty as soon as it loads,
 * which loads node:net and about twenty stream modules: about 5 ms of every start, although main.ts gives commands
 * its own stdio (sources/adapters/local/stdio.ts) and most commands never need a stream. In the bundle those two
 * clipanion files are patched (CLIPANION_PATCHES) so that both happen on first use only; `node sources/main.ts` and
 * the tests run clipanion as published. The build fails when a file to patch is not bundled or its text differs.
 */
export function clipanionStdioOnFirstUse(): esbuild.Plugin {
  const clipanion = path.dirname(createRequire(import.meta.url).resolve(`clipanion/package.json`));
  return {
    name: `clipanion-stdio-on-first-use`,
    setup(build) {
      const patched = new Set<string>();
      build.onLoad({filter: /[\\/]clipanion[\\/]lib[\\/](advanced[\\/]Cli|platform[\\/]node)\.js$/}, async args => {
        const file = path.relative(clipanion, args.path);
        const patches = CLIPANION_PATCHES[file];
        if (patches === undefined)
          return undefined;
        const contents = applyExactPatches(await fs.promises.readFile(args.path, `utf8`), patches, args.path);
        patched.add(file);
        return {contents, loader: `js`};
      });
      build.onEnd(result => {
        const missing = Object.keys(CLIPANION_PATCHES).filter(file => !patched.has(file));
        patched.clear();
        return missing.length > 0 && result.errors.length === 0 ? {errors: [{text: `clipanion's ${missing.join(`, `)} was not bundled from ${clipanion}: its patch (scripts/lib/sea.ts) would be lost`}]} : undefined;
      });
    },
  };
}

/**
 * A `import(` left in the bundle fails inside the single executable (Node's SEA docs: no dynamic
 * import with `useCodeCache`), e.g. clipanion's lazy `import('typanion')` behind `static schema`.
 */
export function assertNoDynamicImport(text: string, file: string): void {
  const index = text.search(/(?<![\w$.])import\s*\(/);
  if (index >= 0)
    throw new Error(`${path.relative(ROOT, file)} contains a dynamic import( that a single executable cannot run: …${text.slice(Math.max(0, index - 60), index + 60)}…`);
}

/** Marker written to stderr by the probe bundle when a heavy package's code is evaluated. */
const EVALUATED = `@@pullsecret-evaluated `;
/** The packages that `--help` and `version` must never evaluate (about 80 ms of start-up, docs/toolchain.md §3). */
const HEAVY_PACKAGES = [`@kubernetes/client-node`, `undici`];

/**
 * Which of the heavy packages (`@kubernetes/client-node`, `undici`) the CLI evaluates for `args`.
 * Builds a probe bundle of `entry` in which those packages' entry modules announce their evaluation,
 * runs it under `node`, and reads the announcements; the real bundle is not touched.
 */
export async function heavyPackagesEvaluatedBy(argsList: string[][], options: {entry?: string; node?: string} = {}): Promise<Array<{args: string[]; packages: string[]}>> {
  const probe = path.join(path.dirname(BUNDLE), `.probe-${process.pid}-${Date.now()}.cjs`);
  fs.mkdirSync(path.dirname(probe), {recursive: true});
  try {
    await esbuild.build({
      entryPoints: [options.entry ?? path.join(ROOT, `sources`, `main.ts`)],
      outfile: probe,
      bundle: true,
      platform: `node`,
      target: `node24`,
      format: `cjs`,
      logLevel: `error`,
      plugins: [{
        name: `announce-evaluation`,
        setup(build) {
          build.onLoad({filter: /[\\/]node_modules[\\/](@kubernetes[\\/]client-node[\\/]dist|undici)[\\/]index\.js$/}, async args => {
            const name = HEAVY_PACKAGES.find(pkg => args.path.includes(`${path.sep}${pkg.replace(`/`, path.sep)}${path.sep}`))!;
            const marker = `require('node:fs').writeSync(2, ${JSON.stringify(`\n${EVALUATED}${name}\n`)});\n`;
            return {contents: marker + await fs.promises.readFile(args.path, `utf8`), loader: `js`};
          });
        },
      }],
    });
    return argsList.map(args => {
      const result = spawnSync(options.node ?? process.execPath, [probe, ...args], {encoding: `utf8`, env: {PATH: process.env.PATH ?? ``, HOME: process.env.HOME ?? ``}, stdio: [`ignore`, `pipe`, `pipe`], timeout: 30_000});
      const packages = [...new Set(result.stderr.split(`\n`).filter(line => line.startsWith(EVALUATED)).map(line => line.slice(EVALUATED.length)))];
      return {args, packages};
    });
  } finally {
    fs.rmSync(probe, {force: true});
  }
}

/**
 * V8 flags baked into the binary. V8 lets the young generation grow to over 100 MB while `verify -A` reads
 * 20,000 pods, which put its peak RSS at 370–530 MB; capping each semi-space at 16 MB keeps it near 245 MB
 * (bench/verify.ts, which runs the bundle with these same flags) at no measurable cost in time. At the other end, a
 * young generation that starts at 1 MB is scavenged several times while a command starts (the bundle, Node's TLS
 * modules, the first answers); starting at 4 MB saves 1.3-2 ms of `add`, `decode` and `list` (3-4 ms of their CPU) and
 * no peak memory (measured with GNU time: the pages are touched only as the young generation fills).
 */
export const SEA_EXEC_ARGV = [`--max-semi-space-size=16`, `--min-semi-space-size=4`];

/**
 * Makes the SEA blob with `node`, the exact Node version that becomes the binary (a blob from another version can
 * crash it). The blob's main script is SEA_MAIN; the bundle, its code cache and the client-node bundle are assets.
 * `codeCache` writes the bundle's V8 code cache (scripts/lib/codeCache.ts) by running `node` itself, with the
 * binary's V8 flags, so it must be able to run here: the host's node, or a foreign-arch one under `runner` (e.g.
 * `qemu-aarch64-static`). A cache from another version or architecture would be rejected at every start, so
 * cross-built blobs carry none and compile the bundle as they read it.
 *
 * Why a code cache and not a V8 start-up snapshot (which the binary used before): a snapshot's heap is deserialized
 * by every start whatever the command does; an empty program's snapshot alone cost about 11 ms of CPU and 11 MiB of
 * memory here, the plugin's about 19 ms and 22 MiB, which put `--help` and `add` above kubectl's memory. The code
 * cache costs only what the command runs (docs/toolchain.md §3).
 */
export function makeBlob(options: {node: string; blob: string; codeCache: boolean; runner?: string[]; env?: NodeJS.ProcessEnv; bundle?: string; seaMain?: string; clientNode?: string}): void {
  const config = `${options.blob}.json`;
  const groups = [undefined, ...CODE_CACHE_GROUPS];
  const cacheFile = (group: string | undefined) => `${options.blob}.${group ?? `default`}.cache`;
  const bundleFile = options.bundle ?? BUNDLE;
  const [program, ...prefix] = [...(options.runner ?? []), options.node];
  // Every blob carries the client-node bundle as an asset: the main bundle loads it from there (clientNodeAsset.ts).
  const assets: Record<string, string> = {[BUNDLE_ASSET]: bundleFile, [CLIENT_NODE_ASSET]: options.clientNode ?? CLIENT_NODE_BUNDLE};
  try {
    for (const group of options.codeCache ? groups : []) {
      run(program!, [...prefix, ...SEA_EXEC_ARGV, path.join(ROOT, `scripts`, `lib`, `codeCache.ts`), bundleFile, cacheFile(group), ...(group === undefined ? [] : [group])], {quiet: true, env: options.env});
      assets[codeCacheAsset(group)] = cacheFile(group);
    }
    fs.writeFileSync(config, `${JSON.stringify({main: options.seaMain ?? SEA_MAIN, output: options.blob, disableExperimentalSEAWarning: true, execArgv: SEA_EXEC_ARGV, assets, useSnapshot: false, useCodeCache: false}, null, 2)}\n`);
    run(program!, [...prefix, `--experimental-sea-config`, config], {quiet: true, env: options.env});
  } finally {
    fs.rmSync(config, {force: true});
    for (const group of groups)
      fs.rmSync(cacheFile(group), {force: true});
  }
}

/** Strip tools per target (host `strip` only handles the host arch; Mach-O and PE are left alone). */
export function stripTool(os: string, arch: string): string | null {
  if (os !== `linux`)
    return null;
  const hostArch = process.arch === `x64` ? `amd64` : process.arch;
  if (process.platform === `linux` && arch === hostArch)
    return hasProgram(`strip`) ? `strip` : null;
  if (arch === `arm64`)
    return hasProgram(`aarch64-linux-gnu-strip`) ? `aarch64-linux-gnu-strip` : null;
  return null;
}

/** Injects the blob into a copy of a Node binary (stripped first when `strip` is given; stripping after injection is unsafe). */
export async function injectBlob(options: {node: string; blob: string; output: string; strip?: string | null; macho?: boolean}): Promise<void> {
  fs.rmSync(options.output, {force: true});
  fs.copyFileSync(options.node, options.output);
  fs.chmodSync(options.output, 0o755);
  if (options.strip)
    run(options.strip, [options.output]);
  // postject's CLI in a child process, so that its benign ".note" section warnings can be filtered out.
  const result = spawnSync(process.execPath, [path.join(ROOT, `node_modules`, `postject`, `dist`, `cli.js`), options.output, `NODE_SEA_BLOB`, options.blob, `--sentinel-fuse`, SEA_FUSE, ...(options.macho ? [`--macho-segment-name`, `NODE_SEA`] : [])], {encoding: `utf8`, stdio: [`ignore`, `pipe`, `pipe`]});
  const noise = /^warning: Can't find string offset for section name '\.note[^']*'$/;
  const messages = `${result.stdout}\n${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, ``).split(`\n`).filter(line => line.trim() !== `` && !noise.test(line) && !/^Start injection|^💉|^Injection done/u.test(line));
  if (result.status !== 0)
    throw new Error(`postject failed for ${path.basename(options.output)}: ${messages.join(`; `) || `exit ${result.status}`}`);
  for (const line of messages)
    process.stderr.write(`postject: ${line}\n`);
}

/**
 * Rewrites a freshly built binary through an ordinary file copy. postject (and strip) write the ~120 MB file in
 * one go, which leaves it in the page cache as large folios; Linux then maps whole folios into every process that
 * runs the file, so each run of the binary counted 15-20 MB more resident memory (file pages it never reads) than
 * the same bytes installed by a copy or an archive extraction (measured with GNU time on Linux 6.18: --help 79 vs
 * 63 MiB, decode 91 vs 77 MiB). Content and mode are unchanged; only how the kernel caches the file differs.
 */
export function settleInPageCache(file: string): void {
  const copy = path.join(path.dirname(file), `.settle-${path.basename(file)}`);
  try {
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, fs.statSync(file).mode);
    fs.renameSync(copy, file);
  } finally {
    fs.rmSync(copy, {force: true});
  }
}
