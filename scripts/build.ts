// `npm run build`: typecheck, bundle, and make the single-executable binary for this machine:
//   dist/bundle/kubectl-pullsecret.cjs the minified CommonJS bundle (not beside the binary: kubectl would list it as a plugin)
//   dist/bundle/sea-main.cjs           the executable's main script, which loads the bundle (sources/seaMain.ts)
//   dist/kubectl-pullsecret[.exe]      Node 24 + the bundle and its V8 code cache, stripped where safe
//   dist/kubectl_complete-pullsecret   symlink to the binary, for `kubectl __complete pullsecret …`
// Flags: --no-typecheck (the tests call this after `npm test` already typechecked), --bundle-only.
import fs from 'node:fs';
import path from 'node:path';
import {BINARY_NAME, BUNDLE, CLIENT_NODE_BUNDLE, COMPLETION_NAME, DIST, ROOT, SEA_MAIN, bundle, heavyPackagesEvaluatedBy, hasProgram, injectBlob, makeBlob, run, settleInPageCache, stripTool} from './lib/sea.ts';

const args = new Set(process.argv.slice(2));
const started = performance.now();
const step = (label: string) => process.stderr.write(`build: ${label} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);

try {
  fs.mkdirSync(path.dirname(BUNDLE), {recursive: true});
  if (!args.has(`--no-typecheck`)) {
    run(process.execPath, [path.join(ROOT, `node_modules`, `typescript`, `bin`, `tsc`), `-p`, ROOT]);
    step(`typecheck ok`);
  }

  // Everything is written under a temporary name and renamed into place, so that a binary being
  // run (by a test, a benchmark) while another build runs is never a half-written file.
  const temp = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const {bytes, clientNodeBytes} = await bundle({outfile: temp(BUNDLE), clientNodeOutfile: temp(CLIENT_NODE_BUNDLE), seaMainOutfile: temp(SEA_MAIN)});
  for (const file of [BUNDLE, CLIENT_NODE_BUNDLE, SEA_MAIN])
    fs.renameSync(temp(file), file);
  step(`bundled ${path.relative(ROOT, BUNDLE)} (${bytes.toLocaleString(`en`)} bytes) and ${path.relative(ROOT, CLIENT_NODE_BUNDLE)} (${clientNodeBytes.toLocaleString(`en`)} bytes), no dynamic import`);

  // The kube adapter loads @kubernetes/client-node lazily; --help and version must not pay for it
  // (a hard failure). undici alone costs less but still about 40-80 ms of start-up: a loud warning.
  let lazy = true;
  for (const {args: command, packages} of await heavyPackagesEvaluatedBy([[`--help`], [`version`]])) {
    if (packages.includes(`@kubernetes/client-node`))
      throw new Error(`\`${command.join(` `)}\` evaluates @kubernetes/client-node: load it only through the kube adapter's lazy import() of its re-export module`);
    if (packages.length > 0) {
      lazy = false;
      process.stderr.write(`build: WARNING: \`${command.join(` `)}\` evaluates ${packages.join(`, `)} at start-up; import it lazily (through a local re-export module loaded with import()) where it is used\n`);
    }
  }
  step(lazy ? `--help and version evaluate neither @kubernetes/client-node nor undici` : `--help and version do not evaluate @kubernetes/client-node`);

  if (!args.has(`--bundle-only`)) {
    const windows = process.platform === `win32`;
    const binary = path.join(DIST, windows ? `${BINARY_NAME}.exe` : BINARY_NAME);
    const blob = temp(path.join(path.dirname(BUNDLE), `sea.blob`));
    // The blob and the bundle's code cache are made by the very node that becomes the binary, as a code cache requires.
    makeBlob({node: process.execPath, blob, codeCache: true});
    const os = windows ? `windows` : process.platform;
    const arch = process.arch === `x64` ? `amd64` : process.arch;
    // node.exe is Authenticode-signed and injection would leave that signature invalid: remove it first where signtool exists.
    let base = process.execPath;
    if (windows && hasProgram(`signtool`)) {
      base = temp(path.join(path.dirname(BUNDLE), `node-unsigned.exe`));
      fs.copyFileSync(process.execPath, base);
      run(`signtool`, [`remove`, `/s`, base]);
    } else if (windows) {
      process.stderr.write(`build: note: signtool is not on PATH, so ${BINARY_NAME}.exe keeps node.exe's signature, which injection invalidates\n`);
    }
    // macOS: as Node's SEA docs say, drop node's signature before injecting and sign ad hoc afterwards
    // (Apple silicon refuses to run unsigned code).
    const codesign = process.platform === `darwin` && hasProgram(`codesign`);
    if (codesign) {
      base = temp(path.join(path.dirname(BUNDLE), `node-unsigned`));
      fs.copyFileSync(process.execPath, base);
      run(`codesign`, [`--remove-signature`, base]);
    }
    await injectBlob({node: base, blob, output: temp(binary), strip: stripTool(os, arch), macho: process.platform === `darwin`});
    fs.rmSync(blob);
    if (base !== process.execPath)
      fs.rmSync(base);
    if (codesign)
      run(`codesign`, [`--sign`, `-`, `--force`, temp(binary)]);
    settleInPageCache(temp(binary));
    fs.renameSync(temp(binary), binary);
    step(`wrote ${path.relative(ROOT, binary)} (${fs.statSync(binary).size.toLocaleString(`en`)} bytes)`);

    const completion = path.join(DIST, windows ? `${COMPLETION_NAME}.cmd` : COMPLETION_NAME);
    fs.rmSync(temp(completion), {force: true});
    if (windows)
      fs.writeFileSync(temp(completion), `@"%~dp0${BINARY_NAME}.exe" __complete %*\r\n`);
    else
      fs.symlinkSync(BINARY_NAME, temp(completion));
    fs.renameSync(temp(completion), completion);
    step(`wrote ${path.relative(ROOT, completion)}`);
  }
} catch (error) {
  process.stderr.write(`build: error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
  for (const dir of [DIST, path.dirname(BUNDLE)]) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (name.endsWith(`.${process.pid}.tmp`))
        fs.rmSync(path.join(dir, name), {force: true});
    }
  }
}
