import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {stringify} from 'yaml';
import {PullSecretError} from '../../sources/core/errors.ts';
import {kubeconfigFiles, mergeKubeconfigs, resolveKubeconfig} from '../../sources/adapters/kube/kubeconfig.ts';

// A throwaway CA certificate, only parsed (never used for TLS) in these tests.
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBgjCCASegAwIBAgIUPkIyYjkhFkOCsPNuj504JTKnhB8wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKaDUtdGVzdC1jYTAgFw0yNjExMjkwNjE3MzNaGA8yMTI2MTEw
NTA2MTczM1owFTETMBEGA1UEAwwKaDUtdGVzdC1jYTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABBD7IUtrqGXEKzOMxZgrrlbtPRXGsEd2tFNf6w3YwRqrsWPKsh29
d9q8X9hEuaugssHoNZnQcIoPTt8oaiOlU8OjUzBRMB0GA1UdDgQWBBQCuA5rNAe0
BHz3D9RRjA/DBfhliDAfBgNVHSMEGDAWgBQCuA5rNAe0BHz3D9RRjA/DBfhliDAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCGRR3q5Pm5+DvZwbm5
DYtdr4LK97abLQPq2EgoRDuykAIhAMTjJ6dgYa9vfAkg37mlDx4IPJAFeJvh48VC
lPRDC8ay
-----END CERTIFICATE-----`;

type Kc = {
  clusters?: Array<{name: string; cluster: Record<string, unknown>}>;
  users?: Array<{name: string; user: Record<string, unknown>}>;
  contexts?: Array<{name: string; context: Record<string, unknown>}>;
  [`current-context`]?: string;
  preferences?: Record<string, unknown>;
};

function tempDir(t: {after: (fn: () => void) => void}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `h5-kubeconfig-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

function writeKc(dir: string, name: string, kc: Kc): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, stringify({apiVersion: `v1`, kind: `Config`, ...kc}));
  return file;
}

function simple(server: string, extra: {namespace?: string; token?: string} = {}): Kc {
  return {
    clusters: [{name: `c`, cluster: {server, [`insecure-skip-tls-verify`]: true}}],
    users: [{name: `u`, user: {token: extra.token ?? `t`}}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`, ...(extra.namespace ? {namespace: extra.namespace} : {})}}],
    [`current-context`]: `ctx`,
  };
}

function expectError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PullSecretError, `expected a PullSecretError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
}

test(`--kubeconfig wins over KUBECONFIG and ~/.kube/config`, t => {
  const dir = tempDir(t);
  const explicit = writeKc(dir, `explicit.yaml`, simple(`https://explicit.example`));
  const fromEnv = writeKc(dir, `env.yaml`, simple(`https://env.example`));
  writeKc(dir, `home/.kube/config`, simple(`https://home.example`));
  const resolved = resolveKubeconfig({explicitPath: explicit, kubeconfigEnv: fromEnv, homedir: path.join(dir, `home`)});
  assert.equal(resolved.cluster.server, `https://explicit.example`);
});

test(`a relative --kubeconfig is resolved against the working directory`, t => {
  const dir = tempDir(t);
  writeKc(dir, `sub/kc.yaml`, simple(`https://relative.example`));
  assert.deepEqual(kubeconfigFiles({explicitPath: `sub/kc.yaml`, cwd: dir}), [path.join(dir, `sub/kc.yaml`)]);
});

test(`a --kubeconfig that does not exist is an error naming the file, not a fallback`, t => {
  const dir = tempDir(t);
  writeKc(dir, `home/.kube/config`, simple(`https://home.example`));
  expectError(() => resolveKubeconfig({explicitPath: path.join(dir, `nope.yaml`), homedir: path.join(dir, `home`)}), /nope\.yaml \(from --kubeconfig\) does not exist/);
});

test(`KUBECONFIG is used when --kubeconfig is absent, and files that do not exist are ignored`, t => {
  const dir = tempDir(t);
  const present = writeKc(dir, `b.yaml`, simple(`https://b.example`));
  const resolved = resolveKubeconfig({kubeconfigEnv: `${path.join(dir, `missing.yaml`)}:${present}`, homedir: dir});
  assert.equal(resolved.cluster.server, `https://b.example`);
  assert.deepEqual(resolved.files, [present]);
});

test(`KUBECONFIG naming only missing files is an error and does not fall back to ~/.kube/config`, t => {
  const dir = tempDir(t);
  writeKc(dir, `home/.kube/config`, simple(`https://home.example`));
  expectError(() => resolveKubeconfig({kubeconfigEnv: path.join(dir, `missing.yaml`), homedir: path.join(dir, `home`)}), /none of the files in KUBECONFIG exist/);
});

test(`~/.kube/config under the context's home directory is the last resort`, t => {
  const dir = tempDir(t);
  writeKc(dir, `home/.kube/config`, simple(`https://home.example`));
  assert.equal(resolveKubeconfig({homedir: path.join(dir, `home`)}).cluster.server, `https://home.example`);
});

test(`no kubeconfig anywhere gives the "no kubeconfig found" error instead of localhost:8080`, t => {
  const dir = tempDir(t);
  expectError(() => resolveKubeconfig({homedir: dir}), /^no kubeconfig found: set --kubeconfig or KUBECONFIG, or create ~\/\.kube\/config$/);
});

test(`several KUBECONFIG files merge like kubectl config view --merge: first file wins per name and for current-context`, t => {
  const dir = tempDir(t);
  const a = writeKc(dir, `a.yaml`, {
    clusters: [{name: `shared`, cluster: {server: `https://a.example:6443`}}],
    users: [{name: `u1`, user: {token: `token-a`}}],
    contexts: [{name: `ctx`, context: {cluster: `shared`, user: `u1`}}],
  });
  const b = writeKc(dir, `b.yaml`, {
    clusters: [{name: `shared`, cluster: {server: `https://b.example:6443`}}, {name: `onlyb`, cluster: {server: `https://onlyb.example:6443`}}],
    users: [{name: `u1`, user: {token: `token-b`}}, {name: `u2`, user: {token: `token-b2`}}],
    contexts: [{name: `ctx`, context: {cluster: `onlyb`, user: `u2`, namespace: `from-b`}}, {name: `other`, context: {cluster: `onlyb`, user: `u2`}}],
    [`current-context`]: `other`,
  });
  const c = writeKc(dir, `c.yaml`, {[`current-context`]: `ctx`, contexts: [{name: `third`, context: {cluster: `shared`, user: `u1`}}]});
  const kubeconfigEnv = [a, path.join(dir, `missing.yaml`), b, c].join(`:`);
  const merged = mergeKubeconfigs(kubeconfigFiles({kubeconfigEnv}));

  const kubectl = JSON.parse(execFileSync(`kubectl`, [`config`, `view`, `--merge`, `--raw`, `-o`, `json`], {env: {PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfigEnv}, encoding: `utf8`})) as Required<Kc>;
  const byName = <T extends {name: string}>(list: T[] | null) => Object.fromEntries((list ?? []).map(item => [item.name, item]));
  assert.equal(merged.currentContext, kubectl[`current-context`]);
  assert.deepEqual(Object.fromEntries([...merged.clusters].map(([name, entry]) => [name, entry.value])), Object.fromEntries(Object.entries(byName(kubectl.clusters)).map(([name, item]) => [name, item.cluster])));
  assert.deepEqual(Object.fromEntries([...merged.users].map(([name, entry]) => [name, entry.value])), Object.fromEntries(Object.entries(byName(kubectl.users)).map(([name, item]) => [name, item.user])));
  assert.deepEqual(Object.fromEntries([...merged.contexts].map(([name, entry]) => [name, entry.value])), Object.fromEntries(Object.entries(byName(kubectl.contexts)).map(([name, item]) => [name, item.context])));
  // And the resolved session follows the merged view: current-context "other" came from b.yaml.
  const resolved = resolveKubeconfig({kubeconfigEnv});
  assert.equal(resolved.contextName, `other`);
  assert.equal(resolved.cluster.server, `https://onlyb.example:6443`);
});

test(`--context overrides current-context`, t => {
  const dir = tempDir(t);
  const file = writeKc(dir, `kc.yaml`, {
    ...simple(`https://one.example`),
    clusters: [{name: `c`, cluster: {server: `https://one.example`}}, {name: `c2`, cluster: {server: `https://two.example`}}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}, {name: `second`, context: {cluster: `c2`, user: `u`, namespace: `team`}}],
  });
  const resolved = resolveKubeconfig({explicitPath: file, context: `second`});
  assert.equal(resolved.contextName, `second`);
  assert.equal(resolved.cluster.server, `https://two.example`);
  assert.equal(resolved.namespace, `team`);
});

test(`a --context that does not exist is an error naming the context and the file`, t => {
  const dir = tempDir(t);
  const file = writeKc(dir, `kc.yaml`, simple(`https://one.example`));
  expectError(() => resolveKubeconfig({explicitPath: file, context: `x`}), new RegExp(`^context "x" not found in kubeconfig \\(${file.replace(/[.\\/]/g, `\\$&`)}\\)`));
});

test(`the namespace comes from -n, then the context, then "default"; only -n is explicit`, t => {
  const dir = tempDir(t);
  const withNs = writeKc(dir, `ns.yaml`, simple(`https://one.example`, {namespace: `team`}));
  const withoutNs = writeKc(dir, `nons.yaml`, simple(`https://one.example`));
  const flag = resolveKubeconfig({explicitPath: withNs, namespace: `web`});
  assert.deepEqual([flag.namespace, flag.namespaceExplicit], [`web`, true]);
  const fromContext = resolveKubeconfig({explicitPath: withNs});
  assert.deepEqual([fromContext.namespace, fromContext.namespaceExplicit], [`team`, false]);
  const fallback = resolveKubeconfig({explicitPath: withoutNs});
  assert.deepEqual([fallback.namespace, fallback.namespaceExplicit], [`default`, false]);
});

test(`relative certificate-authority, client-certificate, client-key, token-file and exec command resolve against the defining file's directory`, t => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, `conf/certs`), {recursive: true});
  fs.writeFileSync(path.join(dir, `conf/certs/ca.crt`), CA_PEM);
  const file = writeKc(dir, `conf/kc.yaml`, {
    clusters: [{name: `c`, cluster: {server: `https://one.example`, [`certificate-authority`]: `certs/ca.crt`}}],
    users: [{name: `u`, user: {[`client-certificate`]: `certs/client.crt`, [`client-key`]: `../keys/client.key`, [`token-file`]: `tok`, exec: {command: `./bin/plugin`, args: []}}}],
    contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}],
    [`current-context`]: `ctx`,
  });
  const resolved = resolveKubeconfig({explicitPath: file, cwd: `/somewhere/else`});
  assert.equal(resolved.cluster.ca?.toString(), CA_PEM);
  assert.equal(resolved.user.user[`client-certificate`], path.join(dir, `conf/certs/client.crt`));
  assert.equal(resolved.user.user[`client-key`], path.join(dir, `keys/client.key`));
  assert.equal(resolved.user.user[`token-file`], path.join(dir, `conf/tok`));
  assert.equal((resolved.user.user.exec as {command: string}).command, path.join(dir, `conf/bin/plugin`));
});

test(`an exec command without a path separator stays a PATH lookup`, t => {
  const dir = tempDir(t);
  const file = writeKc(dir, `kc.yaml`, {...simple(`https://one.example`), users: [{name: `u`, user: {exec: {command: `gke-gcloud-auth-plugin`}}}]});
  assert.equal((resolveKubeconfig({explicitPath: file}).user.user.exec as {command: string}).command, `gke-gcloud-auth-plugin`);
});

test(`with KUBECONFIG merging, a user's relative paths resolve against the file that defined that user`, t => {
  const dir = tempDir(t);
  const a = writeKc(dir, `a/kc.yaml`, {contexts: [{name: `ctx`, context: {cluster: `c`, user: `u`}}], [`current-context`]: `ctx`, clusters: [{name: `c`, cluster: {server: `https://one.example`, [`insecure-skip-tls-verify`]: true}}]});
  const b = writeKc(dir, `b/kc.yaml`, {users: [{name: `u`, user: {[`token-file`]: `token`}}]});
  const resolved = resolveKubeconfig({kubeconfigEnv: `${a}:${b}`});
  assert.equal(resolved.user.user[`token-file`], path.join(dir, `b/token`));
});

test(`a kubeconfig defining the same user twice is rejected without quoting its content`, t => {
  const dir = tempDir(t);
  const file = writeKc(dir, `kc.yaml`, {...simple(`https://one.example`), users: [{name: `u`, user: {token: `first-secret`}}, {name: `u`, user: {token: `second-secret`}}]});
  assert.throws(() => resolveKubeconfig({explicitPath: file}), (error: Error) => /defines user "u" twice/.test(error.message) && !/secret/.test(error.message));
});

test(`insecure-skip-tls-verify together with a CA is rejected like kubectl does`, t => {
  const dir = tempDir(t);
  const file = writeKc(dir, `kc.yaml`, {...simple(`https://one.example`), clusters: [{name: `c`, cluster: {server: `https://one.example`, [`insecure-skip-tls-verify`]: true, [`certificate-authority-data`]: Buffer.from(CA_PEM).toString(`base64`)}}]});
  expectError(() => resolveKubeconfig({explicitPath: file}), /sets both insecure-skip-tls-verify and a certificate authority/);
});

test(`a socks proxy-url is reported as unsupported instead of being ignored`, t => {
  const dir = tempDir(t);
  const file = writeKc(dir, `kc.yaml`, {...simple(`https://one.example`), clusters: [{name: `c`, cluster: {server: `https://one.example`, [`proxy-url`]: `socks5://127.0.0.1:1080`}}]});
  expectError(() => resolveKubeconfig({explicitPath: file}), /socks5 proxy-url/);
});
