import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT} from '../helpers/binary.ts';

/** The system's node (what npm runs `npm run demo` with before `npm ci` installed Node 24). */
function systemNode(): string | undefined {
  for (const dir of (process.env.PATH ?? ``).split(path.delimiter)) {
    const candidate = path.join(dir, `node`);
    if (!dir.includes(`node_modules`) && fs.existsSync(candidate))
      return candidate;
  }
  return undefined;
}

test(`scripts/demo.mjs, the first thing a fresh clone runs, is plain JavaScript that the system's node accepts`, () => {
  const node = systemNode();
  assert.ok(node, `a system node is on PATH (npm itself needs one)`);
  const result = spawnSync(node, [`--check`, path.join(ROOT, `scripts`, `demo.mjs`)], {encoding: `utf8`});
  assert.equal(result.status, 0, result.stderr);
});

test(`npm run demo builds, starts the sandbox, shows the plugin working against it and stops the sandbox`, {timeout: 300_000}, () => {
  const result = spawnSync(process.execPath, [path.join(ROOT, `scripts`, `demo.mjs`)], {cwd: ROOT, encoding: `utf8`, env: {PATH: process.env.PATH ?? ``, HOME: process.env.HOME ?? ``, NO_COLOR: `1`}, timeout: 280_000});
  assert.equal(result.status, 0, result.stderr + result.stdout.slice(-2000));
  const out = result.stdout;
  for (const expected of [`$ kubectl plugin list`, `$ kubectl pullsecret version`, `== starting the sandbox`, `$ kubectl get namespaces`, `== stopping the sandbox`])
    assert.ok(out.includes(expected), `demo output shows ${expected}`);
  assert.match(out, /^kubectl-pullsecret \d+\.\d+\.\d+/m);
  assert.ok(out.indexOf(`== stopping the sandbox`) > out.indexOf(`$ kubectl get namespaces`));
  assert.doesNotMatch(out, /demo: error/);
  // The sandbox's node really pulls: the frontend fails first, and runs after `attach --restart`.
  const attach = out.indexOf(`$ kubectl pullsecret attach regcred -n web --restart`);
  assert.ok(attach > 0, `the demo attaches with --restart`);
  assert.match(out.slice(0, attach), /frontend-\S+\s+0\/1\s+(ErrImagePull|ImagePullBackOff)\s/);
  const after = out.slice(attach);
  assert.match(after, /\$ kubectl get pods -n web\nNAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nfrontend-\S+\s+1\/1\s+Running\s+0\s+\S+\n(?!frontend)/);
});
