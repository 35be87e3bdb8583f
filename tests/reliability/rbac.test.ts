/**
 * Issue 7 §6: docs/rbac.md is what is tested. Its Role/ClusterRole YAML blocks become emulator users; every
 * command, in the forms the doc documents, must give exactly the admin's output with exactly those rules;
 * without any single permission it must either fail with an error naming the verb, resource and namespace,
 * or degrade exactly as documented; every documented permission must be needed by some form. Then every
 * command runs as a user with no access at all, as the emulator's `readonly` user and as its
 * namespace-limited `limited` user (namespace `team-a`).
 *
 * Each run gets a fresh emulator seeded with the world of ./rbacWorld.ts (read-only commands share one per
 * form); the registry is Debian's real docker-registry.
 */
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {TestRegistry} from '../helpers/registry/index.ts';
import {startRegistry} from '../helpers/registry/index.ts';
import type {ApiEmulator, RbacRule} from '../helpers/apiEmulator/index.ts';
import type {Atom, Env, Form, FormRun, RoleDoc} from '../helpers/rbacWorld.ts';
import {FORMS, PASSWORD, READ_ONLY_COMMANDS, SECRET as SECRET_NAME, USERNAME, atomCovers, contextFor, atomKey, atomsOf, releaseManifest, rolesOfMarkdown, rulesOf, runForm, runIn, startWorld} from '../helpers/rbacWorld.ts';

const DOC = path.join(import.meta.dirname, `../../docs/rbac.md`);

/**
 * What removing one permission does to a form. Permissions not listed here must change nothing.
 * - `fatal`: exit 1 with an `error:` (or `NS: failed at`) line naming the permission; a string names the
 *   permission the message names instead (the documented fallback: a refused list is retried as a get).
 * - `degrades`: the documented degradation: this exit code, output matching `match` (and lacking `lacks`).
 */
type Expectation = `fatal` | {fatal: string} | {degrades: {code: number; match?: RegExp; lacks?: RegExp}};

const WORKLOAD_LISTS = [`apps/deployments`, `apps/statefulsets`, `apps/daemonsets`, `apps/replicasets`, `batch/cronjobs`];
const timingReport = (scope: string, namespace = scope): Record<string, Expectation> => Object.fromEntries([`pods`, ...WORKLOAD_LISTS].map(resource => [
  `list ${resource} ${scope}`,
  {degrades: {code: 0, match: new RegExp(`warning: (?:[a-z-]+: )?could not check running pods in namespace "${namespace}": cannot list ${plural(resource)}[.a-z]* in namespace "${namespace}": forbidden`)}},
]));
// attach --restart: a list it needs to find the workloads to roll is refused → that namespace fails.
const restartLists = (scope: string): Record<string, Expectation> => Object.fromEntries([`pods`, ...WORKLOAD_LISTS].map(resource => [`list ${resource} ${scope}`, `fatal` as const]));
const listReferences = (scope: string): Record<string, Expectation> => Object.fromEntries([`serviceaccounts`, `pods`, `replicationcontrollers`, ...WORKLOAD_LISTS, `batch/jobs`].map(resource => [
  `list ${resource} ${scope}`,
  {degrades: {code: 0, match: new RegExp(`^warning: cannot list ${plural(resource)} \\(forbidden\\); references from ${plural(resource)} are not shown$`, `m`)}},
]));
// verify without one list of pods or workloads: the rest is checked, a note names the kind, and it exits 1 (incomplete).
const verifyNotes = (scope: string): Record<string, Expectation> => Object.fromEntries([`pods`, `replicationcontrollers`, ...WORKLOAD_LISTS, `batch/jobs`].map(resource => [
  `list ${resource} ${scope}`,
  {degrades: {code: 1, match: new RegExp(`^note: cannot list ${plural(resource)}: forbidden\nnote: the check is incomplete: `, `m`)}},
]));
// Secrets it cannot list are read one by one; the refused list is noted once (not once per pull-secret type).
const unreadableSecret: Expectation = {degrades: {code: 1, match: /warning: cannot read secret web\/regcred: forbidden; its credentials were not checked[\s\S]*^note: cannot list secrets: forbidden$(?![\s\S]*^note: cannot list secrets)/m}};
// --image reads only the secrets it is given, one by one when the list is refused: no note about the list.
const unreadableImageSecret: Expectation = {degrades: {code: 1, match: /warning: cannot read secret web\/regcred: forbidden; its credentials were not checked[\s\S]*^note: the check is incomplete: /m}};
const unreadableAccount = (code: number): Expectation => ({degrades: {code, match: /warning: cannot read serviceaccount web\/default: forbidden/}});
// doctor without the objects behind a pod's credentials says which it could not read, and proposes no fix it cannot know.
const unreadableEvidence = (resource: string): Expectation => ({degrades: {
  code: 1,
  match: new RegExp(`^ {2}cause: cannot read ${resource} in web: forbidden \\(needs get or list on ${resource}; unread: `, `m`),
  lacks: /kubectl pullsecret (?:add|attach|sync) /,
}});
const doctorCommon = (scope: string): Record<string, Expectation> => ({
  [`list events ${scope}`]: {degrades: {code: 1, lacks: /note: event: /}},
  [`get serviceaccounts ${scope}`]: unreadableEvidence(`serviceaccounts`),
  [`get apps/replicasets ${scope}`]: {degrades: {code: 1, match: /kubectl delete pod worker-6c9d-m2xq7 -n web/, lacks: /rollout restart deployment\/worker/}},
});

const EXPECT: Record<string, Record<string, Expectation>> = {
  'add create': {'get secrets web': `fatal`, 'create secrets web': `fatal`},
  'add update': {'get secrets web': `fatal`, 'update secrets web': `fatal`},
  'add --dry-run=server': {'get secrets web': `fatal`, 'create secrets web': `fatal`},
  'add --attach': {
    'get secrets web': `fatal`, 'create secrets web': `fatal`, 'list serviceaccounts web': {fatal: `get serviceaccounts web`}, 'patch serviceaccounts web': `fatal`,
    ...timingReport(`web`),
  },
  'add -A': {'list namespaces cluster-wide': `fatal`, 'get secrets cluster-wide': `fatal`, 'create secrets cluster-wide': `fatal`, 'update secrets cluster-wide': `fatal`},
  'add -A --attach': {
    'list namespaces cluster-wide': `fatal`, 'get secrets cluster-wide': `fatal`, 'create secrets cluster-wide': `fatal`,
    'list serviceaccounts cluster-wide': {fatal: `get serviceaccounts cluster-wide`}, 'patch serviceaccounts cluster-wide': `fatal`,
    ...timingReport(`cluster-wide`, `default`),
  },
  'attach': {'get secrets web': `fatal`, 'list serviceaccounts web': {fatal: `get serviceaccounts web`}, 'patch serviceaccounts web': `fatal`, ...timingReport(`web`)},
  'attach --restart': {
    'get secrets web': `fatal`, 'list serviceaccounts web': {fatal: `get serviceaccounts web`},
    'patch apps/deployments web': `fatal`, 'patch apps/statefulsets web': `fatal`, 'patch apps/daemonsets web': `fatal`,
    // Without the pods and workloads --restart cannot tell which workloads to roll: the restart asked for fails.
    ...restartLists(`web`),
  },
  'attach --all-service-accounts --workload': {
    'get secrets web': `fatal`, 'list serviceaccounts web': `fatal`, 'patch serviceaccounts web': `fatal`,
    'patch apps/deployments web': `fatal`, 'patch apps/statefulsets web': `fatal`, 'patch apps/daemonsets web': `fatal`,
    // Named workloads are read with one list per kind; without any of them, each one is read with a get.
    ...Object.fromEntries(WORKLOAD_LISTS.map(resource => [`list ${resource} web`, {fatal: `get apps/deployments web`}])),
    'list pods web': timingReport(`web`)[`list pods web`]!,
  },
  'attach --dry-run=server': {'get secrets web': `fatal`, 'list serviceaccounts web': {fatal: `get serviceaccounts web`}, 'patch serviceaccounts web': `fatal`, ...timingReport(`web`)},
  'attach -A --restart': {
    'list namespaces cluster-wide': `fatal`, 'get secrets cluster-wide': `fatal`, 'list serviceaccounts cluster-wide': `fatal`, 'patch serviceaccounts cluster-wide': `fatal`,
    'patch apps/deployments cluster-wide': `fatal`, 'patch apps/statefulsets cluster-wide': `fatal`, 'patch apps/daemonsets cluster-wide': `fatal`,
    ...restartLists(`cluster-wide`),
  },
  'detach': {'list serviceaccounts web': {fatal: `get serviceaccounts web`}, 'patch serviceaccounts web': `fatal`},
  'detach --workload': {'list serviceaccounts web': `fatal`, 'patch serviceaccounts web': `fatal`, 'get batch/cronjobs web': `fatal`, 'patch batch/cronjobs web': `fatal`},
  'detach -A': {'list namespaces cluster-wide': `fatal`, 'list serviceaccounts cluster-wide': {fatal: `get serviceaccounts cluster-wide`}, 'patch serviceaccounts cluster-wide': `fatal`},
  'sync update': {'get secrets platform': `fatal`, 'get secrets web': `fatal`, 'update secrets web': `fatal`},
  'sync create --attach': {
    'get secrets platform': `fatal`, 'get secrets web': `fatal`, 'create secrets web': `fatal`,
    'list serviceaccounts web': {fatal: `get serviceaccounts web`}, 'patch serviceaccounts web': `fatal`,
    ...timingReport(`web`),
  },
  'sync -A': {'list namespaces cluster-wide': `fatal`, 'get secrets cluster-wide': `fatal`, 'list secrets cluster-wide': `fatal`, 'create secrets cluster-wide': `fatal`, 'update secrets cluster-wide': `fatal`},
  'sync --prune': {
    'list namespaces cluster-wide': `fatal`, 'get secrets cluster-wide': `fatal`, 'list secrets cluster-wide': `fatal`, 'create secrets cluster-wide': `fatal`,
    'delete secrets cluster-wide': `fatal`, 'list serviceaccounts cluster-wide': `fatal`, 'patch serviceaccounts cluster-wide': `fatal`,
    ...Object.fromEntries(WORKLOAD_LISTS.map(resource => [`list ${resource} cluster-wide`, `fatal` as const])),
    'patch batch/cronjobs cluster-wide': `fatal`,
  },
  'rotate': {'list namespaces cluster-wide': `fatal`, 'get secrets cluster-wide': `fatal`, 'list secrets cluster-wide': `fatal`, 'update secrets cluster-wide': `fatal`},
  'remove': {
    'get secrets web': `fatal`, 'list pods web': {degrades: {code: 0, match: /^warning: could not check for running pods that still list regcred in namespace "web": cannot list pods in namespace "web": forbidden/m}},
    'delete secrets web': `fatal`, 'list serviceaccounts web': `fatal`, 'patch serviceaccounts web': `fatal`,
    ...Object.fromEntries(WORKLOAD_LISTS.map(resource => [`list ${resource} web`, `fatal` as const])),
    'patch batch/cronjobs web': `fatal`,
  },
  'remove -A': {
    'get secrets cluster-wide': `fatal`, 'list pods cluster-wide': {degrades: {code: 0, match: /^warning: web: could not check for running pods that still list regcred in namespace "web": cannot list pods in namespace "web": forbidden/m}},
    'list namespaces cluster-wide': `fatal`, 'delete secrets cluster-wide': `fatal`, 'list serviceaccounts cluster-wide': `fatal`, 'patch serviceaccounts cluster-wide': `fatal`,
    ...Object.fromEntries(WORKLOAD_LISTS.map(resource => [`list ${resource} cluster-wide`, `fatal` as const])),
    'patch batch/cronjobs cluster-wide': `fatal`,
  },
  'list': {'list secrets web': `fatal`, ...listReferences(`web`)},
  'list -A': {'list secrets cluster-wide': `fatal`, ...listReferences(`cluster-wide`)},
  'decode': {'get secrets web': `fatal`},
  'explain --secret': {'get secrets web': `fatal`},
  'explain --service-account': {'get secrets web': `fatal`, 'get serviceaccounts web': `fatal`},
  'verify': {'list secrets web': unreadableSecret, 'list serviceaccounts web': unreadableAccount(1), ...verifyNotes(`web`)},
  'verify -f': {'list secrets web': unreadableSecret, 'list serviceaccounts web': unreadableAccount(1)},
  'verify --image': {'list secrets web': unreadableImageSecret},
  'verify -A': {'list namespaces cluster-wide': `fatal`, 'list secrets cluster-wide': unreadableSecret, 'list serviceaccounts cluster-wide': unreadableAccount(1), ...verifyNotes(`cluster-wide`)},
  'doctor': {'list pods web': `fatal`, 'get secrets web': unreadableEvidence(`secrets`), ...doctorCommon(`web`)},
  'doctor POD': {'get pods web': `fatal`, 'get secrets web': unreadableEvidence(`secrets`), ...doctorCommon(`web`)},
  'doctor -A': {'list namespaces cluster-wide': `fatal`, 'list pods cluster-wide': `fatal`, 'list secrets cluster-wide': unreadableEvidence(`secrets`), ...doctorCommon(`cluster-wide`)},
};

function plural(resource: string): string {
  return resource.replace(/^[a-z]+\//, ``);
}

let registry: TestRegistry;
let tmp: string;
let env: Env;
let roles: RoleDoc[];

before(async () => {
  roles = rolesOfMarkdown(fs.readFileSync(DOC, `utf8`));
  registry = await startRegistry({mode: `basic`, users: {[USERNAME]: PASSWORD}});
  await registry.push(`team/app`, `1`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `rbac-test-`));
  const releaseFile = path.join(tmp, `release.yaml`);
  fs.writeFileSync(releaseFile, releaseManifest(registry.host));
  env = {registryHost: registry.host, releaseFile};
});

after(async () => {
  await registry?.stop();
  if (tmp)
    fs.rmSync(tmp, {recursive: true, force: true});
});

/** Runs `work` over `items`, at most `limit` at a time, in order. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  }));
  return results;
}

/**
 * Runs a form several times, each as its own user: read-only commands in one shared emulator (concurrently),
 * commands that write in a fresh emulator each.
 */
async function runMany(form: Form, whos: Array<{context: string} | {rules: RbacRule[]}>): Promise<FormRun[]> {
  if (!READ_ONLY_COMMANDS.has(form.argv[0]!))
    return mapLimit(whos, 3, who => runForm(form, env, who));
  const api: ApiEmulator = await startWorld(form, env);
  try {
    const contexts = whos.map(who => contextFor(api, who));
    return await mapLimit(contexts, 4, context => runIn(api, form, env, context));
  } finally {
    await api.stop();
  }
}

const output = (run: FormRun) => `${run.stderr}${run.stdout}`;
// The users' contexts have their own names; a note naming the context it read is otherwise the same output.
const withoutContextName = (text: string) => text.replace(/\bin context [a-z0-9-]+/g, `in context CONTEXT`);
const sameRun = (a: FormRun, b: FormRun) => a.code === b.code && withoutContextName(a.stdout) === withoutContextName(b.stdout) && withoutContextName(a.stderr) === withoutContextName(b.stderr);
const show = (run: FormRun) => `exit ${run.code}\n--- stderr\n${run.stderr}--- stdout\n${run.stdout.slice(0, 2000)}`;

/** The rules of the form's documented roles, as permissions. */
function documentedAtoms(form: Form): Atom[] {
  const mine = roles.filter(role => form.roles.includes(role.name));
  assert.deepEqual(mine.map(role => role.name).sort(), [...form.roles].sort(), `docs/rbac.md lacks a role of ${form.id}`);
  return atomsOf(mine);
}

function parseKey(key: string): Atom {
  const [verb, qualified, scope] = key.split(` `) as [string, string, string];
  const [group, resource] = qualified.includes(`/`) ? qualified.split(`/`) as [string, string] : [``, qualified];
  return {verb, resource, group, ...(scope === `cluster-wide` ? {} : {namespace: scope})};
}

/** True when a line of `text` is an error naming the permission: verb, resource, and its namespace or cluster scope. */
function namesPermission(text: string, atom: Atom): boolean {
  const resource = atom.group === `` ? atom.resource : `${atom.resource}(?:\\.${atom.group})?`;
  const scope = atom.namespace === undefined
    ? /cluster-wide|in all namespaces|in namespace "[a-z0-9-]+"/
    : new RegExp(`namespace "?${atom.namespace}"?`);
  return text.split(`\n`).some(line => /^(?:error: |[a-z0-9-]+: failed at )/.test(line)
    && /forbidden/.test(line)
    && new RegExp(`\\b${atom.verb}\\b.*\\b${resource}\\b`).test(line)
    && scope.test(line));
}

function assertNoStackTrace(run: FormRun): void {
  assert.doesNotMatch(run.stderr, /^\s+at .+:\d+:\d+\)?$/m, `stack trace in stderr:\n${run.stderr}`);
}

/** Per form: the outcome of removing each permission (filled by the tests below, read by the minimality test). */
const observed = new Map<string, Map<string, `unused` | `fatal` | `degrades`>>();
const full = new Map<string, FormRun>();

for (const form of FORMS) {
  test(`${form.id}: gives the admin's exact output with exactly the documented rules`, async () => {
    const atoms = documentedAtoms(form);
    const [admin, restricted] = await runMany(form, [{context: `admin`}, {rules: rulesOf(atoms)}]);
    assert.ok(sameRun(admin!, restricted!), `with the documented rules:\n${show(restricted!)}\nas admin:\n${show(admin!)}`);
    assertNoStackTrace(restricted!);
    assert.equal(restricted!.code, form.argv[0] === `doctor` ? 1 : 0, `the world is set up for success (doctor: a diagnosis)\n${show(restricted!)}`);
    full.set(form.id, restricted!);
  });

  test(`${form.id}: without any one documented permission fails naming it, or degrades as documented`, async () => {
    const reference = full.get(form.id);
    assert.ok(reference, `the previous test did not complete`);
    const atoms = documentedAtoms(form);
    const expected = EXPECT[form.id];
    assert.ok(expected, `no expectations for ${form.id}`);
    for (const key of Object.keys(expected))
      assert.ok(atoms.some(atom => atomKey(atom) === key), `${form.id}: "${key}" is not a documented permission of ${form.roles.join(`, `)}`);
    // A permission that no request of the full run used cannot change anything: only the others are run.
    const used = atoms.filter(atom => reference.requests.some(request => atomCovers(atom, request)));
    const runs = await runMany(form, used.map(atom => ({rules: rulesOf(atoms.filter(other => other !== atom))})));
    const outcomes = new Map<string, `unused` | `fatal` | `degrades`>(atoms.map(atom => [atomKey(atom), `unused`]));
    const problems: string[] = [];
    used.forEach((atom, index) => {
      const key = atomKey(atom);
      const run = runs[index]!;
      const expectation = expected[key];
      if (/^\s+at .+:\d+:\d+\)?$/m.test(run.stderr))
        problems.push(`without ${key}: a stack trace\n${show(run)}`);
      if (expectation === undefined) {
        if (!sameRun(run, reference))
          problems.push(`without ${key}: expected no change, got\n${show(run)}`);
        return;
      }
      if (expectation === `fatal` || `fatal` in expectation) {
        outcomes.set(key, `fatal`);
        const named = expectation === `fatal` ? atom : parseKey(expectation.fatal);
        if (run.code !== 1 || !namesPermission(run.stderr, named))
          problems.push(`without ${key}: expected exit 1 and an error naming ${atomKey(named)}, got\n${show(run)}`);
        return;
      }
      outcomes.set(key, `degrades`);
      const {code, match, lacks} = expectation.degrades;
      if (run.code !== code || (match && !match.test(output(run))) || (lacks && lacks.test(output(run))) || (lacks && !lacks.test(output(reference))))
        problems.push(`without ${key}: expected exit ${code}${match ? `, output matching ${match}` : ``}${lacks ? `, output lacking ${lacks}` : ``}; got\n${show(run)}`);
    });
    for (const key of Object.keys(expected)) {
      if (!used.some(atom => atomKey(atom) === key))
        problems.push(`${key} is expected to matter, but no request of the full run used it`);
    }
    observed.set(form.id, outcomes);
    assert.deepEqual(problems, []);
  });
}

test(`every permission docs/rbac.md grants is needed by at least one documented form`, () => {
  assert.equal(observed.size, FORMS.length, `some per-permission tests did not complete`);
  const unneeded: string[] = [];
  for (const role of roles) {
    const forms = FORMS.filter(form => form.roles.includes(role.name));
    assert.ok(forms.length > 0, `role ${role.name} is not exercised by any form`);
    for (const atom of atomsOf([role])) {
      const key = atomKey(atom);
      if (!forms.some(form => observed.get(form.id)?.get(key) !== `unused`))
        unneeded.push(`${role.name}: ${key}`);
    }
  }
  assert.deepEqual(unneeded, []);
});

test(`the doc's roles are RBAC objects kubectl would accept: core, apps and batch groups only, known verbs`, () => {
  const groups: Record<string, Set<string>> = {
    '': new Set([`secrets`, `serviceaccounts`, `pods`, `events`, `namespaces`, `replicationcontrollers`]),
    apps: new Set([`deployments`, `statefulsets`, `daemonsets`, `replicasets`]),
    batch: new Set([`jobs`, `cronjobs`]),
  };
  for (const role of roles) {
    assert.match(role.name, /^pullsecret-[a-z-]+$/);
    assert.equal(role.kind === `Role`, role.namespace !== undefined, `${role.name}: a Role has a namespace, a ClusterRole none`);
    for (const atom of atomsOf([role])) {
      assert.ok(groups[atom.group]?.has(atom.resource), `${role.name}: ${atom.resource} is not in API group "${atom.group}"`);
      assert.ok([`get`, `list`, `create`, `update`, `patch`, `delete`].includes(atom.verb), `${role.name}: verb ${atom.verb}`);
      assert.ok(!(role.kind === `Role` && atom.resource === `namespaces`), `${role.name}: namespaces are cluster-scoped`);
    }
  }
});

// One namespaced and (where there is one) one -A form of every command.
const REPRESENTATIVE = [`add create`, `add -A`, `attach`, `attach -A --restart`, `detach`, `detach -A`, `sync update`, `sync -A`, `rotate`, `remove`, `remove -A`,
  `list`, `list -A`, `decode`, `explain --service-account`, `verify`, `verify --image`, `verify -A`, `doctor`, `doctor -A`].map(id => {
  const form = FORMS.find(candidate => candidate.id === id);
  assert.ok(form, id);
  return form;
});
const isReadOnly = (form: Form) => READ_ONLY_COMMANDS.has(form.argv[0]!);
const clusterWide = (form: Form) => form.argv.includes(`-A`);
const ONE_ERROR_LINE = /^error: (?=.*forbidden)(?=.*(?:needs RBAC verb "\w+" on "[a-z.]+" (?:in namespace "[a-z0-9-]+"|cluster-wide)|you may not list secrets (?:in namespace [a-z0-9-]+|cluster-wide)))/;

for (const form of REPRESENTATIVE) {
  // `verify -n web` that can list no pods and no workload has checked nothing: it fails like the others.
  test(`with no access at all, ${form.id} fails with one error line naming the verb, resource and namespace`, async () => {
    const [run] = await runMany(form, [{rules: []}]);
    assertNoStackTrace(run!);
    if (form.id === `verify --image`) {
      // Documented: the secret is reported unreadable on its row; the image is not proven pullable.
      assert.equal(run!.code, 1, show(run!));
      assert.match(run!.stdout, /warning: cannot read secret web\/regcred: forbidden; its credentials were not checked/);
      return;
    }
    assert.equal(run!.code, 1, show(run!));
    assert.equal(run!.stdout, ``);
    const lines = run!.stderr.trimEnd().split(`\n`);
    assert.equal(lines.length, 1, show(run!));
    assert.match(lines[0]!, ONE_ERROR_LINE);
    if (form.id === `verify`)
      assert.match(lines[0]!, /^error: verify could list no pods and no workloads: cannot list pods in namespace "web": forbidden/);
  });
}

for (const form of REPRESENTATIVE) {
  test(`as the readonly user, ${form.id} ${isReadOnly(form) ? `works as for an admin` : `fails naming the write verb it lacks`}`, async () => {
    if (isReadOnly(form)) {
      const [admin, readonly] = await runMany(form, [{context: `admin`}, {context: `readonly`}]);
      assert.ok(sameRun(admin!, readonly!), `as readonly:\n${show(readonly!)}\nas admin:\n${show(admin!)}`);
      return;
    }
    const [run] = await runMany(form, [{context: `readonly`}]);
    assertNoStackTrace(run!);
    assert.equal(run!.code, 1, show(run!));
    assert.match(run!.stderr, /^(?:error: |[a-z0-9-]+: failed at ).*forbidden for user "readonly" \(needs RBAC verb "(?:create|update|patch|delete)" on "[a-z.]+" in namespace "[a-z0-9-]+"\)/m);
  });
}

/** The form acting on namespace `team-a` (the limited user's) instead of `web`. */
function inTeamA(form: Form): Form {
  return {...form, id: `${form.id} (team-a)`, argv: form.argv.map(arg => (arg === `web` ? `team-a` : arg)), world: {...form.world, appNamespace: `team-a`}};
}

for (const form of REPRESENTATIVE.filter(candidate => !clusterWide(candidate))) {
  const needsOtherNamespace = form.argv.includes(`--from-namespace`);
  test(`as the user limited to team-a, ${form.id} -n team-a ${needsOtherNamespace ? `fails naming the source namespace it may not read` : `works as for an admin`}`, async () => {
    const teamA = inTeamA(form);
    if (needsOtherNamespace) {
      const [run] = await runMany(teamA, [{context: `limited`}]);
      assert.equal(run!.code, 1, show(run!));
      assert.match(run!.stderr, /^error: cannot get secrets "regcred" in namespace "platform": forbidden for user "limited" \(needs RBAC verb "get" on "secrets" in namespace "platform"\)/);
      return;
    }
    const [admin, limited] = await runMany(teamA, [{context: `admin`}, {context: `limited`}]);
    assert.equal(admin!.code, form.argv[0] === `doctor` ? 1 : 0, show(admin!));
    assert.ok(sameRun(admin!, limited!), `as limited:\n${show(limited!)}\nas admin:\n${show(admin!)}`);
  });

  test(`as the user limited to team-a, ${form.id} in namespace web fails naming the namespace`, async () => {
    const [run] = await runMany(form, [{context: `limited`}]);
    assertNoStackTrace(run!);
    assert.equal(run!.code, 1, show(run!));
    if (form.id === `verify --image`) {
      assert.match(run!.stdout, /warning: cannot read secret web\/regcred: forbidden/);
      return;
    }
    const named = form.argv.includes(`--from-namespace`) ? `platform` : `web`;
    assert.match(run!.stderr, new RegExp(`^error: (?=.*forbidden)(?=.*in namespace "?${named}\\b)`));
  });
}

for (const form of REPRESENTATIVE.filter(clusterWide)) {
  test(`as the user limited to team-a, ${form.id} fails naming the cluster scope it lacks`, async () => {
    const [run] = await runMany(form, [{context: `limited`}]);
    assertNoStackTrace(run!);
    assert.equal(run!.code, 1, show(run!));
    assert.equal(run!.stderr.trimEnd().split(`\n`).length, 1, show(run!));
    // sync -A first reads its source in namespace platform.
    assert.match(run!.stderr, form.id === `sync -A`
      ? /^error: cannot get secrets "regcred" in namespace "platform": forbidden/
      : /^error: (?=.*forbidden)(?=.*cluster-wide)/);
  });
}

// `--namespaces a,b` with the namespaced Role bound in each namespace (no ClusterRole).
const SEVERAL: Array<{role: string; argv: string[]; stdin?: string; todo?: string; note?: string}> = [
  {role: `pullsecret-add`, argv: [`add`, `newcred`, `--namespaces`, `web,team-b`, `--docker-server`, `REGISTRY`, `--docker-username`, USERNAME, `--docker-password-stdin`], stdin: PASSWORD},
  {role: `pullsecret-remove`, argv: [`remove`, `regcred`, `--namespaces`, `web,team-b`]},
  // team-b is empty: whether it exists is checked with `get namespaces/team-b`, which a Role cannot grant (documented note).
  {role: `pullsecret-verify`, argv: [`verify`, `--namespaces`, `web,team-b`], note: `note: nothing to check in namespace team-b, and whether it exists could not be checked (get namespaces is forbidden)`},
  {role: `pullsecret-attach`, argv: [`attach`, `regcred`, `--namespaces`, `web,team-b`, `--allow-missing`]},
  {role: `pullsecret-detach`, argv: [`detach`, `regcred`, `--namespaces`, `web,team-b`]},
];
for (const {role, argv, stdin, todo, note} of SEVERAL) {
  test(`${argv.slice(0, argv.indexOf(`--namespaces`)).join(` `)} --namespaces web,team-b works with the ${role} Role bound in both namespaces`, {todo}, async () => {
    const doc = roles.find(candidate => candidate.name === role);
    assert.ok(doc && doc.kind === `Role`, role);
    const atoms = atomsOf([{...doc, namespace: `web`}, {...doc, namespace: `team-b`}]);
    const form: Form = {id: argv.join(` `), argv, stdin, roles: [role]};
    const [admin, restricted] = await runMany(form, [{context: `admin`}, {rules: rulesOf(atoms)}]);
    assert.equal(admin!.code, 0, show(admin!));
    // The admin's run with the documented note before the summary line, when there is one.
    const lines = admin!.stdout.trimEnd().split(`\n`);
    const expected = note === undefined ? admin! : {...admin!, stdout: `${[...lines.slice(0, -1), note, ...lines.slice(-1)].join(`\n`)}\n`};
    assert.ok(sameRun(expected, restricted!), `with the Role in web and team-b:\n${show(restricted!)}\nas admin:\n${show(admin!)}`);
  });
}

test(`rotate without the cluster-wide list of secrets writes nothing, as docs/rbac.md says`, async () => {
  const form = FORMS.find(candidate => candidate.id === `rotate`)!;
  const atoms = documentedAtoms(form).filter(atom => !(atom.verb === `list` && atom.resource === `secrets`));
  const [run] = await runMany(form, [{rules: rulesOf(atoms)}]);
  assert.equal(run!.code, 1, show(run!));
  assert.match(run!.stderr, /^error: cannot find the copies of platform\/regcred, so nothing was rotated: cannot list secrets in all namespaces: forbidden/);
  assert.deepEqual(run!.requests.filter(request => request.method !== `GET`).map(request => `${request.method} ${request.path}`), []);
});

test(`docs/rbac.md shows exactly the command lines that are tested`, () => {
  // Shell quotes are not part of the argument (`--exclude-namespaces 'kube-*,default,team-b'`).
  const shown = [...fs.readFileSync(DOC, `utf8`).matchAll(/^kubectl pullsecret (.+)$/gm)].map(match => match[1]!.replaceAll(`'`, ``)).sort();
  const tested = FORMS.map(form => form.argv.map(arg => arg.replaceAll(`REGISTRY`, `registry.example.com`).replace(/^RELEASE$/, `release.yaml`)).join(` `)).sort();
  assert.deepEqual(shown, tested);
});

// Smaller rule sets the doc names for narrower use.
const NARROWER: Array<{title: string; form: string; argv?: string[]; atoms: (documented: Atom[]) => Atom[]}> = [
  {title: `verify --image --secret needs only get on secrets`, form: `verify --image`, atoms: () => [{verb: `get`, resource: `secrets`, group: ``, namespace: `web`}]},
  {
    title: `attach --allow-missing needs no get on secrets`,
    form: `attach`,
    argv: [`attach`, SECRET_NAME, `-n`, `web`, `--service-account`, `builder`, `--allow-missing`],
    atoms: documented => documented.filter(atom => !(atom.verb === `get` && atom.resource === `secrets`)),
  },
];
for (const {title, form: id, argv, atoms: narrow} of NARROWER) {
  test(`${title}, as docs/rbac.md says`, async () => {
    const base = FORMS.find(candidate => candidate.id === id)!;
    const form: Form = {...base, argv: argv ?? base.argv};
    const atoms = narrow(documentedAtoms(base));
    const [admin, restricted] = await runMany(form, [{context: `admin`}, {rules: rulesOf(atoms)}]);
    assert.equal(admin!.code, 0, show(admin!));
    assert.ok(sameRun(admin!, restricted!), `with ${atoms.map(atomKey).join(`, `)}:\n${show(restricted!)}\nas admin:\n${show(admin!)}`);
  });
}
