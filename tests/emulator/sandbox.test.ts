/** `npm run sandbox`: starts, writes the kubeconfig only when ready, serves kubectl, stops cleanly on SIGTERM. */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {requireKubectl, runKubectl} from '../helpers/apiEmulator/kubectl.ts';
import {runCli} from '../helpers/runCli.ts';

const ROOT = path.resolve(import.meta.dirname, `..`, `..`);

/** Every live descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync(`/proc`)) {
    if (!/^\d+$/.test(entry))
      continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, `utf8`);
      const ppid = Number(stat.slice(stat.lastIndexOf(`)`) + 2).split(` `)[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, `utf8`);
    return stat.slice(stat.lastIndexOf(`)`) + 2)[0] !== `Z`;
  } catch {
    return false;
  }
}

test(`the sandbox serves kubectl once its kubeconfig appears and exits 0 on SIGTERM, leaving no process behind`, async t => {
  requireKubectl();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sandbox-test-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const kubeconfig = path.join(dir, `sandbox.kubeconfig`);
  const child = spawn(process.execPath, [path.join(ROOT, `scripts`, `sandbox.ts`), `--kubeconfig`, kubeconfig], {cwd: ROOT, stdio: [`ignore`, `pipe`, `pipe`]});
  let stdout = ``;
  let stderr = ``;
  child.stdout.on(`data`, c => (stdout += c));
  child.stderr.on(`data`, c => (stderr += c));
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>(resolve => child.on(`exit`, (code, signal) => resolve({code, signal})));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null)
      child.kill(`SIGKILL`);
  });

  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(kubeconfig)) {
    assert.equal(child.exitCode, null, `the sandbox exited early: ${stderr}`);
    assert.ok(Date.now() < deadline, `no kubeconfig after 60 s: ${stderr}`);
    await new Promise(r => setTimeout(r, 50));
  }
  // Written only when ready: the banner is already out and the API answers at once.
  assert.match(stdout, new RegExp(`export KUBECONFIG=${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, `\\$&`)}`));
  assert.match(stdout, /registry user developer \/ \S+/);
  const namespaces = await runKubectl([`get`, `namespaces`, `-o`, `name`], {kubeconfig});
  assert.equal(namespaces.code, 0, namespaces.stderr);
  for (const ns of [`web`, `api`, `ci`, `legacy`])
    assert.ok(namespaces.stdout.includes(`namespace/${ns}\n`), namespaces.stdout);
  // The node really pulls: the frontend (no pull secret in `web`) and the backend fail with the kubelet's words.
  const broken = await runKubectl([`get`, `pods`, `-n`, `web`, `--no-headers`], {kubeconfig});
  assert.match(broken.stdout, /^frontend-[a-z0-9]+-[a-z0-9]{5}\s+0\/1\s+(ErrImagePull|ImagePullBackOff)\s/);
  const described = await runKubectl([`describe`, `pods`, `-n`, `api`], {kubeconfig});
  assert.match(described.stdout, /Failed to pull image "127\.0\.0\.1:\d+\/team\/api:1\.0": rpc error: code = Unknown desc = failed to pull and unpack image .*pull access denied, repository does not exist or may require authorization/);
  assert.match(described.stdout, /Failed to pull image "127\.0\.0\.1:\d+\/team\/worker:1\.0": rpc error: code = Unknown desc = failed to pull and unpack image .*failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized/);
  assert.match((await runKubectl([`get`, `pods`, `-n`, `ci`, `--no-headers`], {kubeconfig})).stdout, /^nightly-build-29012345-[a-z0-9]{5}\s+1\/1\s+Running\s/, `a pod whose ServiceAccount has the secret runs`);

  // The banner's fix, run as printed: the frontend is replaced by a pod that pulls and runs.
  const fix = /^  (kubectl pullsecret sync .*)$/m.exec(stdout)![1]!;
  const fixed = await runCli(fix.split(` `).slice(2).concat([`--kubeconfig`, kubeconfig]));
  assert.equal(fixed.code, 0, fixed.stderr);
  const healedBy = Date.now() + 30_000;
  for (;;) {
    const pods = (await runKubectl([`get`, `pods`, `-n`, `web`, `--no-headers`], {kubeconfig})).stdout;
    if (/^frontend-\S+\s+1\/1\s+Running\s/m.test(pods) && pods.trim().split(`\n`).length === 1)
      break;
    assert.ok(Date.now() < healedBy, `the frontend did not become Running: ${pods}`);
    await new Promise(r => setTimeout(r, 200));
  }

  const spawned = descendants(child.pid!);
  assert.ok(spawned.length > 0, `the registry and containerd run as child processes`);
  child.kill(`SIGTERM`);
  const {code, signal} = await exited;
  assert.deepEqual({code, signal}, {code: 0, signal: null}, stderr);
  assert.match(stderr, /sandbox: SIGTERM, stopping/);
  assert.equal(fs.existsSync(kubeconfig), false, `the stale kubeconfig is removed`);
  await new Promise(r => setTimeout(r, 200));
  assert.deepEqual(spawned.filter(alive), [], `processes left behind`);
});

test(`the sandbox without --kubeconfig prints its usage and exits 2`, async () => {
  const child = spawn(process.execPath, [path.join(ROOT, `scripts`, `sandbox.ts`)], {cwd: ROOT, stdio: [`ignore`, `pipe`, `pipe`]});
  let stderr = ``;
  child.stderr.on(`data`, c => (stderr += c));
  const code = await new Promise(resolve => child.on(`exit`, resolve));
  assert.equal(code, 2);
  assert.equal(stderr, `usage: npm run sandbox -- --kubeconfig <path>\n`);
});

test(`npm run sandbox goes through scripts/sandbox.mjs: plain JavaScript for the system's node, which installs what is missing, then runs the sandbox`, async () => {
  const systemNode = (process.env.PATH ?? ``).split(path.delimiter).filter(dir => dir !== `` && !dir.includes(`node_modules`)).map(dir => path.join(dir, `node`)).find(file => fs.existsSync(file));
  assert.ok(systemNode, `a system node is on PATH`);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, `package.json`), `utf8`));
  assert.equal(pkg.scripts.sandbox, `node scripts/sandbox.mjs`);
  const child = spawn(systemNode, [path.join(ROOT, `scripts`, `sandbox.mjs`)], {cwd: ROOT, stdio: [`ignore`, `pipe`, `pipe`]});
  let stderr = ``;
  child.stderr.on(`data`, c => (stderr += c));
  const code = await new Promise(resolve => child.on(`exit`, resolve));
  assert.equal(code, 2, stderr);
  assert.equal(stderr, `usage: npm run sandbox -- --kubeconfig <path>\n`);
});
