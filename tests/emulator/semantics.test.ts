/** API semantics of the emulator over raw HTTPS: what a real kube-apiserver 1.32 answers. */
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startApiEmulator, type ApiEmulator} from '../helpers/apiEmulator/index.ts';
import {request} from '../helpers/apiEmulator/client.ts';

let api: ApiEmulator;
let counter = 0;

before(async () => {
  api = await startApiEmulator({plainHttp: true});
});

after(async () => {
  await api?.stop();
});

function freshNamespace(prefix = `s`): string {
  const name = `${prefix}-${++counter}`;
  api.seed.namespace(name);
  return name;
}

const dockerconfig = (value: string) => Buffer.from(value).toString(`base64`);
const GOOD_CONFIG = dockerconfig(`{"auths":{"registry.example.com":{"auth":"dTpw"}}}`);

// ------------------------------------------------------------------ discovery

test(`/version reports Kubernetes 1.32 so the kubectl dispatcher picks kubectl 1.32`, async () => {
  const reply = await request(api, `GET`, `/version`);
  assert.equal(reply.status, 200);
  assert.equal(reply.json.major, `1`);
  assert.equal(reply.json.minor, `32`);
  assert.equal(reply.json.gitVersion, `v1.32.5`);
});

test(`/apis answers aggregated discovery with its media type when asked for it`, async () => {
  const reply = await request(api, `GET`, `/apis`, {accept: `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json`});
  assert.equal(reply.headers[`content-type`], `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`);
  assert.equal(reply.json.kind, `APIGroupDiscoveryList`);
  const apps = reply.json.items.find((g: any) => g.metadata.name === `apps`);
  const deployments = apps.versions[0].resources.find((r: any) => r.resource === `deployments`);
  assert.deepEqual({scope: deployments.scope, kind: deployments.responseKind.kind, shortNames: deployments.shortNames}, {scope: `Namespaced`, kind: `Deployment`, shortNames: [`deploy`]});
});

test(`/api answers legacy APIVersions to a plain JSON client`, async () => {
  const reply = await request(api, `GET`, `/api`);
  assert.equal(reply.headers[`content-type`], `application/json`);
  assert.deepEqual(reply.json.versions, [`v1`]);
});

test(`/api/v1 lists resources with verbs, shortNames, kind and singular names`, async () => {
  const reply = await request(api, `GET`, `/api/v1`);
  const sa = reply.json.resources.find((r: any) => r.name === `serviceaccounts`);
  assert.deepEqual(sa, {name: `serviceaccounts`, singularName: `serviceaccount`, namespaced: true, kind: `ServiceAccount`, verbs: [`create`, `delete`, `deletecollection`, `get`, `list`, `patch`, `update`, `watch`], shortNames: [`sa`]});
});

test(`an unknown path is a 404 Status`, async () => {
  const reply = await request(api, `GET`, `/apis/example.com/v1/widgets`);
  assert.equal(reply.status, 404);
  assert.equal(reply.json.kind, `Status`);
  assert.equal(reply.json.reason, `NotFound`);
});

// ------------------------------------------------------------------ authentication and authorization

test(`a request without a token is 401 with an Unauthorized Status`, async () => {
  const reply = await request(api, `GET`, `/api/v1/namespaces`, {token: null});
  assert.equal(reply.status, 401);
  assert.deepEqual(reply.json, {kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Failure`, message: `Unauthorized`, reason: `Unauthorized`, code: 401});
});

test(`an unknown token is 401`, async () => {
  assert.equal((await request(api, `GET`, `/api/v1/namespaces`, {token: `forged`})).status, 401);
});

test(`a cluster-wide list without a cluster-wide grant is forbidden at the cluster scope`, async () => {
  const reply = await request(api, `GET`, `/api/v1/secrets`, {token: api.tokens.limited});
  assert.equal(reply.status, 403);
  assert.deepEqual(reply.json, {
    kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Failure`,
    message: `secrets is forbidden: User "limited" cannot list resource "secrets" in API group "" at the cluster scope`,
    reason: `Forbidden`, details: {kind: `secrets`}, code: 403,
  });
});

test(`a forbidden named request names the object, the group and the namespace`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `PATCH`, `/apis/apps/v1/namespaces/${ns}/deployments/web`, {token: api.tokens.readonly, body: {}, contentType: `application/merge-patch+json`});
  assert.equal(reply.status, 403);
  assert.equal(reply.json.message, `deployments.apps "web" is forbidden: User "readonly" cannot patch resource "deployments" in API group "apps" in the namespace "${ns}"`);
  assert.deepEqual(reply.json.details, {name: `web`, group: `apps`, kind: `deployments`});
});

test(`users added with rules get exactly those rights`, async () => {
  const ns = freshNamespace();
  const token = api.addUser(`alice`, [{verbs: [`get`], resources: [`secrets`], namespaces: [ns]}]);
  api.seed.secret(ns, {metadata: {name: `s`}, data: {a: `YQ==`}});
  assert.equal((await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets/s`, {token})).status, 200);
  const list = await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets`, {token});
  assert.equal(list.json.message, `secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
});

test(`a SelfSubjectAccessReview answers from the same rules`, async () => {
  const review = (token: string, verb: string, namespace: string) => request(api, `POST`, `/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, {
    token, body: {apiVersion: `authorization.k8s.io/v1`, kind: `SelfSubjectAccessReview`, spec: {resourceAttributes: {verb, resource: `serviceaccounts`, namespace}}},
  });
  const allowed = await review(api.tokens.limited, `patch`, `team-a`);
  assert.equal(allowed.status, 201);
  assert.equal(allowed.json.status.allowed, true);
  assert.match(allowed.json.status.reason, /^RBAC: allowed by /);
  assert.deepEqual((await review(api.tokens.limited, `patch`, `team-b`)).json.status, {allowed: false});
  assert.deepEqual((await review(api.tokens.readonly, `list`, `team-b`)).json.status.allowed, true);
});

test(`the plain-HTTP listener acts as the admin user, like kubectl proxy`, async () => {
  const reply = await request(api, `GET`, `/api/v1/namespaces/default`, {plain: true, token: null});
  assert.equal(reply.status, 200);
  assert.equal(api.requests.at(-1)!.user, `admin`);
});

// ------------------------------------------------------------------ create / get / update

test(`create assigns uid, creationTimestamp and a resourceVersion from one global counter`, async () => {
  const ns = freshNamespace();
  const a = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body: {metadata: {name: `a`}, data: {k: `dg==`}}});
  const b = await request(api, `POST`, `/apis/apps/v1/namespaces/${ns}/deployments`, {body: {metadata: {name: `d`}, spec: {selector: {matchLabels: {app: `d`}}, template: {metadata: {labels: {app: `d`}}, spec: {containers: [{name: `c`, image: `nginx`}]}}}}});
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.ok(Number(b.json.metadata.resourceVersion) > Number(a.json.metadata.resourceVersion));
  assert.equal(a.json.type, `Opaque`);
  assert.equal(a.json.metadata.generation, undefined);
  assert.equal(b.json.metadata.generation, 1);
  assert.notEqual(a.json.metadata.uid, b.json.metadata.uid);
});

test(`creating an existing object is 409 AlreadyExists`, async () => {
  const ns = freshNamespace();
  const body = {metadata: {name: `regcred`}, data: {k: `dg==`}};
  await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body});
  const again = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body});
  assert.equal(again.status, 409);
  assert.deepEqual(again.json, {kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Failure`, message: `secrets "regcred" already exists`, reason: `AlreadyExists`, details: {name: `regcred`, kind: `secrets`}, code: 409});
});

test(`creating in a missing namespace is 404 naming the namespace`, async () => {
  const reply = await request(api, `POST`, `/api/v1/namespaces/ghost/serviceaccounts`, {body: {metadata: {name: `x`}}});
  assert.equal(reply.status, 404);
  assert.equal(reply.json.message, `namespaces "ghost" not found`);
  assert.deepEqual(reply.json.details, {name: `ghost`, kind: `namespaces`});
});

test(`a PUT with a stale resourceVersion is 409 Conflict worded like the real server`, async () => {
  const ns = freshNamespace();
  const sa = (await request(api, `GET`, `/api/v1/namespaces/${ns}/serviceaccounts/default`)).json;
  const first = await request(api, `PUT`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {body: {...sa, imagePullSecrets: [{name: `a`}]}});
  assert.equal(first.status, 200);
  const stale = await request(api, `PUT`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {body: {...sa, imagePullSecrets: [{name: `b`}]}});
  assert.equal(stale.status, 409);
  assert.equal(stale.json.reason, `Conflict`);
  assert.equal(stale.json.message, `Operation cannot be fulfilled on serviceaccounts "default": the object has been modified; please apply your changes to the latest version and try again`);
  assert.deepEqual(api.getObject(`serviceaccounts`, ns, `default`).imagePullSecrets, [{name: `a`}]);
});

test(`a merge patch carrying a stale resourceVersion is 409 Conflict`, async () => {
  const ns = freshNamespace();
  const sa = api.getObject(`serviceaccounts`, ns, `default`);
  api.seed.serviceAccount(ns, `default`, {imagePullSecrets: [`x`]});
  const reply = await request(api, `PATCH`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {contentType: `application/merge-patch+json`, body: {metadata: {resourceVersion: sa.metadata.resourceVersion}, imagePullSecrets: [{name: `y`}]}});
  assert.equal(reply.status, 409);
  assert.deepEqual(api.getObject(`serviceaccounts`, ns, `default`).imagePullSecrets, [{name: `x`}]);
});

test(`a PUT without a resourceVersion is an unconditional update`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `PUT`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {body: {metadata: {name: `default`}, imagePullSecrets: [{name: `z`}]}});
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json.imagePullSecrets, [{name: `z`}]);
});

test(`a PUT whose name differs from the URL is a 400`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `PUT`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {body: {metadata: {name: `other`}}});
  assert.equal(reply.status, 400);
  assert.equal(reply.json.message, `the name of the object (other) does not match the name on the URL (default)`);
});

test(`a JSON patch whose test op fails is 422 with the real server's generic message`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `PATCH`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {contentType: `application/json-patch+json`, body: [{op: `test`, path: `/metadata/resourceVersion`, value: `1`}]});
  assert.equal(reply.status, 422);
  assert.deepEqual(reply.json, {kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Failure`, message: `the server rejected our request due to an error in our request`, reason: `Invalid`, code: 422});
});

test(`a patch with an unsupported content type is 415`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `PATCH`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {contentType: `text/plain`, body: `{}`});
  assert.equal(reply.status, 415);
  assert.equal(reply.json.reason, `UnsupportedMediaType`);
});

test(`a patch of a missing object is 404`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `PATCH`, `/api/v1/namespaces/${ns}/serviceaccounts/ghost`, {contentType: `application/merge-patch+json`, body: {}});
  assert.equal(reply.status, 404);
  assert.equal(reply.json.message, `serviceaccounts "ghost" not found`);
});

test(`a spec change bumps a workload's generation and a metadata change does not`, async () => {
  const ns = freshNamespace();
  api.seed.workload(`Deployment`, ns, `web`, {containers: [{name: `c`, image: `nginx:1`}]});
  const path = `/apis/apps/v1/namespaces/${ns}/deployments/web`;
  const labelled = await request(api, `PATCH`, path, {contentType: `application/merge-patch+json`, body: {metadata: {labels: {x: `y`}}}});
  assert.equal(labelled.json.metadata.generation, 1);
  const changed = await request(api, `PATCH`, path, {contentType: `application/strategic-merge-patch+json`, body: {spec: {template: {spec: {imagePullSecrets: [{name: `r`}]}}}}});
  assert.equal(changed.json.metadata.generation, 2);
});

// ------------------------------------------------------------------ dry run

test(`dryRun=All validates and answers the object but stores nothing`, async () => {
  const ns = freshNamespace();
  const before = api.requests.length;
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets?dryRun=All&fieldManager=test`, {body: {metadata: {name: `dry`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': GOOD_CONFIG}}});
  assert.equal(reply.status, 201);
  assert.equal(reply.json.metadata.name, `dry`);
  assert.equal(reply.json.metadata.resourceVersion, undefined);
  assert.equal(api.getObject(`secrets`, ns, `dry`), undefined);
  assert.equal(api.requests.length, before + 1);
  const invalid = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets?dryRun=All`, {body: {metadata: {name: `dry`}, type: `kubernetes.io/dockerconfigjson`, data: {}}});
  assert.equal(invalid.status, 422);
});

test(`a dry-run patch answers the patched object and leaves the stored one alone`, async () => {
  const ns = freshNamespace();
  const before = api.getObject(`serviceaccounts`, ns, `default`);
  const reply = await request(api, `PATCH`, `/api/v1/namespaces/${ns}/serviceaccounts/default?dryRun=All`, {contentType: `application/merge-patch+json`, body: {imagePullSecrets: [{name: `r`}]}});
  assert.deepEqual(reply.json.imagePullSecrets, [{name: `r`}]);
  assert.deepEqual(api.getObject(`serviceaccounts`, ns, `default`), before);
});

// ------------------------------------------------------------------ validation (422 with causes)

test(`a secret's type cannot change (422 with a cause on type)`, async () => {
  const ns = freshNamespace();
  api.seed.secret(ns, {metadata: {name: `s`}, type: `Opaque`, data: {'.dockerconfigjson': GOOD_CONFIG}});
  const reply = await request(api, `PATCH`, `/api/v1/namespaces/${ns}/secrets/s`, {contentType: `application/merge-patch+json`, body: {type: `kubernetes.io/dockerconfigjson`}});
  assert.equal(reply.status, 422);
  assert.equal(reply.json.message, `Secret "s" is invalid: type: Invalid value: "kubernetes.io/dockerconfigjson": field is immutable`);
  assert.deepEqual(reply.json.details, {name: `s`, kind: `Secret`, causes: [{reason: `FieldValueInvalid`, message: `Invalid value: "kubernetes.io/dockerconfigjson": field is immutable`, field: `type`}]});
});

test(`a dockerconfigjson secret without its key is 422 Required`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body: {metadata: {name: `s`}, type: `kubernetes.io/dockerconfigjson`, data: {other: GOOD_CONFIG}}});
  assert.equal(reply.status, 422);
  assert.equal(reply.json.message, `Secret "s" is invalid: data[.dockerconfigjson]: Required value`);
  assert.deepEqual(reply.json.details.causes, [{reason: `FieldValueRequired`, message: `Required value`, field: `data[.dockerconfigjson]`}]);
});

test(`a dockercfg secret without its key is 422 Required`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body: {metadata: {name: `s`}, type: `kubernetes.io/dockercfg`, data: {}}});
  assert.equal(reply.json.message, `Secret "s" is invalid: data[.dockercfg]: Required value`);
});

test(`a .dockerconfigjson that is not valid JSON is 422 and the message redacts the contents`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body: {metadata: {name: `s`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfig(`password=hunter2`)}}});
  assert.equal(reply.status, 422);
  assert.equal(reply.json.message, `Secret "s" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character 'p' looking for beginning of value`);
  assert.doesNotMatch(reply.text, /hunter2/);
});

test(`a .dockerconfigjson that is a JSON array is 422 (it must be an object)`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body: {metadata: {name: `s`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfig(`[]`)}}});
  assert.equal(reply.json.details.causes[0].message, `Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}`);
});

test(`an invalid object name is 422 with the DNS-1123 explanation`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body: {metadata: {name: `Bad_Name`}, data: {}}});
  assert.equal(reply.status, 422);
  assert.match(reply.json.message, /^Secret "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
  assert.equal(reply.json.details.causes[0].field, `metadata.name`);
});

test(`secret data that is not base64 cannot be decoded (400, like the real server's decoder)`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {body: {metadata: {name: `s`}, data: {k: `not base64!`}}});
  assert.equal(reply.status, 400);
  assert.equal(reply.json.message, `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3`);
});

test(`a Job's pod template is immutable`, async () => {
  const ns = freshNamespace();
  api.seed.workload(`Job`, ns, `once`, {containers: [{name: `c`, image: `busybox`}]});
  const reply = await request(api, `PATCH`, `/apis/batch/v1/namespaces/${ns}/jobs/once`, {contentType: `application/strategic-merge-patch+json`, body: {spec: {template: {spec: {imagePullSecrets: [{name: `r`}]}}}}});
  assert.equal(reply.status, 422);
  assert.equal(reply.json.details.causes[0].field, `spec.template`);
  assert.match(reply.json.message, /^Job\.batch "once" is invalid: spec\.template: Invalid value: .*: field is immutable$/);
});

test(`a pod's imagePullSecrets cannot be changed after creation`, async () => {
  const ns = freshNamespace();
  api.seed.pod(ns, `p`, {containers: [{name: `c`, image: `nginx`}]});
  const reply = await request(api, `PATCH`, `/api/v1/namespaces/${ns}/pods/p`, {contentType: `application/strategic-merge-patch+json`, body: {spec: {imagePullSecrets: [{name: `r`}]}}});
  assert.equal(reply.status, 422);
  assert.match(reply.json.message, /spec: Forbidden: pod updates may not change fields other than/);
});

// ------------------------------------------------------------------ admission and namespace lifecycle

test(`a pod without a ServiceAccount gets default and the SA's imagePullSecrets`, async () => {
  const ns = freshNamespace();
  api.seed.serviceAccount(ns, `default`, {imagePullSecrets: [`regcred`]});
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/pods`, {body: {metadata: {name: `p`}, spec: {containers: [{name: `c`, image: `nginx`}]}}});
  assert.equal(reply.status, 201);
  assert.equal(reply.json.spec.serviceAccountName, `default`);
  assert.deepEqual(reply.json.spec.imagePullSecrets, [{name: `regcred`}]);
});

test(`a pod that lists its own imagePullSecrets keeps them and gets none from the SA`, async () => {
  const ns = freshNamespace();
  api.seed.serviceAccount(ns, `default`, {imagePullSecrets: [`from-sa`]});
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/pods`, {body: {metadata: {name: `p`}, spec: {imagePullSecrets: [{name: `own`}], containers: [{name: `c`, image: `nginx`}]}}});
  assert.deepEqual(reply.json.spec.imagePullSecrets, [{name: `own`}]);
});

test(`a pod naming a missing ServiceAccount is refused by admission`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `POST`, `/api/v1/namespaces/${ns}/pods`, {body: {metadata: {name: `p`}, spec: {serviceAccountName: `ghost`, containers: [{name: `c`, image: `nginx`}]}}});
  assert.equal(reply.status, 403);
  assert.equal(reply.json.message, `pods "p" is forbidden: error looking up service account ${ns}/ghost: serviceaccount "ghost" not found`);
});

test(`creating a namespace creates its default ServiceAccount, deleting it deletes its objects`, async () => {
  const created = await request(api, `POST`, `/api/v1/namespaces`, {body: {metadata: {name: `life-${++counter}`}}});
  const ns = created.json.metadata.name;
  assert.ok(api.getObject(`serviceaccounts`, ns, `default`));
  api.seed.secret(ns, {metadata: {name: `s`}, data: {}});
  const deleted = await request(api, `DELETE`, `/api/v1/namespaces/${ns}`);
  assert.equal(deleted.status, 200);
  assert.equal(deleted.json.status.phase, `Terminating`);
  assert.equal(api.getObject(`namespaces`, undefined, ns), undefined);
  assert.deepEqual([...api.objects(`secrets`, ns), ...api.objects(`serviceaccounts`, ns)], []);
});

// ------------------------------------------------------------------ lists, pagination and selectors

test(`limit/continue pages through every object once, in order, with the first page's resourceVersion`, async () => {
  const ns = freshNamespace(`page`);
  for (let i = 0; i < 23; i++)
    api.seed.secret(ns, {metadata: {name: `s-${String(i).padStart(2, `0`)}`}, data: {}});
  const names: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  let firstRv: string | undefined;
  do {
    const reply = await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets?limit=5${cont ? `&continue=${encodeURIComponent(cont)}` : ``}`);
    firstRv ??= reply.json.metadata.resourceVersion;
    assert.equal(reply.json.metadata.resourceVersion, firstRv);
    names.push(...reply.json.items.map((s: any) => s.metadata.name));
    cont = reply.json.metadata.continue;
    if (cont)
      assert.equal(reply.json.metadata.remainingItemCount, 23 - names.length);
    pages++;
    // A write between pages does not disturb the walk.
    api.seed.secret(freshNamespace(`other`), {metadata: {name: `noise`}, data: {}});
  } while (cont);
  assert.equal(pages, 5);
  assert.deepEqual(names, Array.from({length: 23}, (_, i) => `s-${String(i).padStart(2, `0`)}`));
});

test(`list items carry no kind or apiVersion, the list does`, async () => {
  const ns = freshNamespace();
  const reply = await request(api, `GET`, `/api/v1/namespaces/${ns}/serviceaccounts`);
  assert.equal(reply.json.kind, `ServiceAccountList`);
  assert.equal(reply.json.apiVersion, `v1`);
  assert.deepEqual(Object.keys(reply.json.items[0]), [`metadata`]);
});

test(`a malformed continue token is a 400`, async () => {
  const reply = await request(api, `GET`, `/api/v1/pods?limit=5&continue=garbage`);
  assert.equal(reply.status, 400);
});

test(`a namespaced list does not leak objects of a namespace sharing its prefix`, async () => {
  const ns = freshNamespace(`prefix`);
  api.seed.namespace(`${ns}-x`);
  api.seed.secret(`${ns}-x`, {metadata: {name: `other`}, data: {}});
  api.seed.secret(ns, {metadata: {name: `mine`}, data: {}});
  const reply = await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets`);
  assert.deepEqual(reply.json.items.map((s: any) => s.metadata.name), [`mine`]);
});

test(`label selectors support =, ==, !=, in, notin, exists and !key`, async () => {
  const ns = freshNamespace(`labels`);
  const seed = (name: string, labels: Record<string, string>) => api.seed.secret(ns, {metadata: {name, labels}, data: {}});
  seed(`a`, {tier: `web`, env: `prod`});
  seed(`b`, {tier: `db`, env: `prod`});
  seed(`c`, {tier: `web`});
  seed(`d`, {});
  const names = async (selector: string) => (await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets?labelSelector=${encodeURIComponent(selector)}`)).json.items.map((s: any) => s.metadata.name);
  assert.deepEqual(await names(`tier=web`), [`a`, `c`]);
  assert.deepEqual(await names(`tier==web,env=prod`), [`a`]);
  assert.deepEqual(await names(`tier!=web`), [`b`, `d`]);
  assert.deepEqual(await names(`tier in (db, web)`), [`a`, `b`, `c`]);
  assert.deepEqual(await names(`tier notin (web)`), [`b`, `d`]);
  assert.deepEqual(await names(`env`), [`a`, `b`]);
  assert.deepEqual(await names(`!env`), [`c`, `d`]);
});

test(`field selectors filter on name, namespace, secret type, pod SA and phase, and event subjects`, async () => {
  const ns = freshNamespace(`fields`);
  api.seed.secret(ns, {metadata: {name: `pull`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': GOOD_CONFIG}});
  api.seed.secret(ns, {metadata: {name: `opaque`}, data: {}});
  api.seed.serviceAccount(ns, `builder`);
  api.seed.pod(ns, `p1`, {serviceAccountName: `builder`, containers: [{name: `c`, image: `nginx`}]});
  api.seed.pod(ns, `p2`, {containers: [{name: `c`, image: `private/app`}]}, {waiting: `ErrImagePull`});
  api.seed.event(ns, {kind: `Pod`, name: `p2`}, `Failed`, `Failed to pull image "private/app"`);
  api.seed.event(ns, {kind: `Pod`, name: `p1`}, `Pulled`, `Successfully pulled image "nginx"`);
  const names = async (path: string, selector: string) => (await request(api, `GET`, `${path}?fieldSelector=${encodeURIComponent(selector)}`)).json.items.map((o: any) => o.metadata.name);
  assert.deepEqual(await names(`/api/v1/namespaces/${ns}/secrets`, `type=kubernetes.io/dockerconfigjson`), [`pull`]);
  assert.deepEqual(await names(`/api/v1/secrets`, `metadata.namespace=${ns},metadata.name=opaque`), [`opaque`]);
  assert.deepEqual(await names(`/api/v1/pods`, `metadata.namespace=${ns},spec.serviceAccountName=builder`), [`p1`]);
  assert.deepEqual(await names(`/api/v1/namespaces/${ns}/pods`, `status.phase=Pending`), [`p2`]);
  assert.deepEqual(await names(`/api/v1/namespaces/${ns}/pods`, `status.phase!=Pending`), [`p1`]);
  const events = await request(api, `GET`, `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(`involvedObject.kind=Pod,involvedObject.name=p2`)}`);
  assert.deepEqual(events.json.items.map((e: any) => e.reason), [`Failed`]);
});

test(`an unsupported field selector is a 400`, async () => {
  const reply = await request(api, `GET`, `/api/v1/secrets?fieldSelector=data.x%3Dy`);
  assert.equal(reply.status, 400);
  assert.equal(reply.json.message, `field label not supported: data.x`);
});

test(`as=Table answers the server's columns with partial object metadata`, async () => {
  const ns = freshNamespace();
  api.seed.secret(ns, {metadata: {name: `t`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': GOOD_CONFIG}});
  const reply = await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets`, {accept: `application/json;as=Table;v=v1;g=meta.k8s.io,application/json`});
  assert.equal(reply.headers[`content-type`], `application/json;as=Table;v=v1;g=meta.k8s.io`);
  assert.deepEqual(reply.json.columnDefinitions.map((c: any) => c.name), [`Name`, `Type`, `Data`, `Age`]);
  assert.deepEqual(reply.json.rows[0].cells.slice(0, 3), [`t`, `kubernetes.io/dockerconfigjson`, 1]);
  assert.equal(reply.json.rows[0].object.kind, `PartialObjectMetadata`);
  assert.equal(reply.json.rows[0].object.metadata.namespace, ns);
});

test(`a watch streams ADDED, MODIFIED and DELETED events`, async () => {
  const ns = freshNamespace();
  const https = await import(`node:https`);
  const url = new URL(api.url);
  const events: any[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const req = https.request({hostname: url.hostname, port: url.port, path: `/api/v1/namespaces/${ns}/secrets?watch=true&resourceVersion=${api.getObject(`namespaces`, undefined, ns).metadata.resourceVersion}`, ca: api.caPem, headers: {authorization: `Bearer ${api.tokens.admin}`}, agent: false}, res => {
      let buffer = ``;
      res.on(`data`, chunk => {
        buffer += chunk;
        const lines = buffer.split(`\n`);
        buffer = lines.pop()!;
        for (const l of lines) events.push(JSON.parse(l));
        if (events.length === 3) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on(`error`, e => (events.length === 3 ? resolve() : reject(e)));
    req.end();
  });
  await new Promise(r => setTimeout(r, 50));
  api.seed.secret(ns, {metadata: {name: `w`}, data: {}});
  await request(api, `PATCH`, `/api/v1/namespaces/${ns}/secrets/w`, {contentType: `application/merge-patch+json`, body: {metadata: {labels: {a: `b`}}}});
  await request(api, `DELETE`, `/api/v1/namespaces/${ns}/secrets/w`);
  await done;
  assert.deepEqual(events.map(e => [e.type, e.object.metadata.name]), [[`ADDED`, `w`], [`MODIFIED`, `w`], [`DELETED`, `w`]]);
});

test(`deleting a secret answers a Success Status with its uid`, async () => {
  const ns = freshNamespace();
  const s = api.seed.secret(ns, {metadata: {name: `gone`}, data: {}});
  const reply = await request(api, `DELETE`, `/api/v1/namespaces/${ns}/secrets/gone`);
  assert.deepEqual(reply.json, {kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Success`, details: {name: `gone`, kind: `secrets`, uid: s.metadata.uid}});
  assert.equal((await request(api, `DELETE`, `/api/v1/namespaces/${ns}/secrets/gone`)).status, 404);
});

// ------------------------------------------------------------------ requests record

test(`every request is recorded with its user, verb, resource and namespace`, async () => {
  const ns = freshNamespace();
  api.resetRequests();
  await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets?limit=3`, {token: api.tokens.readonly});
  assert.equal(api.requests.length, 1);
  assert.deepEqual(api.requests[0], {
    method: `GET`, path: `/api/v1/namespaces/${ns}/secrets`, query: {limit: `3`}, status: 200, accept: `application/json`,
    user: `readonly`, verb: `list`, resource: `secrets`, namespace: ns, httpVersion: `1.1`, inFlight: 1,
  });
});

test(`a recorded request keeps its body, protobuf bodies as the JSON they decode to`, async () => {
  const ns = freshNamespace();
  api.resetRequests();
  await request(api, `PATCH`, `/api/v1/namespaces/${ns}/serviceaccounts/default`, {contentType: `application/json-patch+json`, body: `[{"op":"add","path":"/imagePullSecrets","value":[{"name":"r"}]}]`});
  assert.equal(api.requests[0]!.body, `[{"op":"add","path":"/imagePullSecrets","value":[{"name":"r"}]}]`);
  // A hand-encoded protobuf Secret: k8s\0 + Unknown{typeMeta{apiVersion "v1", kind "Secret"}, raw Secret{metadata{name "pb"}, data{"k": "v"}, type "Opaque"}}.
  const field = (no: number, payload: Buffer) => Buffer.concat([Buffer.from([(no << 3) | 2, payload.length]), payload]);
  const str = (no: number, s: string) => field(no, Buffer.from(s));
  const secret = Buffer.concat([field(1, str(1, `pb`)), field(2, Buffer.concat([str(1, `k`), str(2, `v`)])), str(3, `Opaque`)]);
  const envelope = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), field(1, Buffer.concat([str(1, `v1`), str(2, `Secret`)])), field(2, secret)]);
  const created = await request(api, `POST`, `/api/v1/namespaces/${ns}/secrets`, {raw: envelope, contentType: `application/vnd.kubernetes.protobuf`});
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json.data, {k: `dg==`});
  assert.deepEqual(JSON.parse(api.requests[1]!.body!), {apiVersion: `v1`, kind: `Secret`, metadata: {name: `pb`}, data: {k: `dg==`}, type: `Opaque`});
});

test(`a protobuf body of a kind the emulator cannot decode is 415, never silently misread`, async () => {
  const ns = freshNamespace();
  const field = (no: number, payload: Buffer) => Buffer.concat([Buffer.from([(no << 3) | 2, payload.length]), payload]);
  const envelope = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), field(1, Buffer.concat([field(1, Buffer.from(`apps/v1`)), field(2, Buffer.from(`Deployment`))])), field(2, Buffer.alloc(0))]);
  const reply = await request(api, `POST`, `/apis/apps/v1/namespaces/${ns}/deployments`, {raw: envelope, contentType: `application/vnd.kubernetes.protobuf`});
  assert.equal(reply.status, 415);
  assert.equal(reply.json.reason, `UnsupportedMediaType`);
});

test(`a client certificate from another CA is 401`, async () => {
  const other = await startApiEmulator();
  try {
    const foreign = other.issueClientCert(`admin`, [`system:masters`]);
    const https = await import(`node:https`);
    const url = new URL(api.url);
    const status = await new Promise<number>((resolve, reject) => {
      https.get({hostname: url.hostname, port: url.port, path: `/api/v1/namespaces`, ca: api.caPem, cert: foreign.certPem, key: foreign.keyPem, agent: false}, res => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on(`error`, reject);
    });
    assert.equal(status, 401);
  } finally {
    await other.stop();
  }
});

test(`creating in a missing namespace is 404 even when the object is also invalid (admission runs first)`, async () => {
  const reply = await request(api, `POST`, `/api/v1/namespaces/ghost/secrets`, {body: {metadata: {name: `Bad_Name`}, data: {}}});
  assert.equal(reply.status, 404);
  assert.equal(reply.json.message, `namespaces "ghost" not found`);
});

test(`deleting an owner deletes its dependents, unless propagationPolicy=Orphan`, async () => {
  const ns = freshNamespace();
  const owner = (o: any) => [{apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true}];
  const deployment = api.seed.workload(`Deployment`, ns, `web`, {containers: [{name: `c`, image: `nginx`}]});
  const rs = api.seed.workload(`ReplicaSet`, ns, `web-abc`, {containers: [{name: `c`, image: `nginx`}]}, {ownerReferences: owner(deployment)});
  api.seed.pod(ns, `web-abc-1`, {containers: [{name: `c`, image: `nginx`}]}, {ownerReferences: owner(rs)});
  api.seed.pod(ns, `standalone`, {containers: [{name: `c`, image: `nginx`}]});
  await request(api, `DELETE`, `/apis/apps/v1/namespaces/${ns}/deployments/web`);
  assert.deepEqual(api.objects(`replicasets`, ns), []);
  assert.deepEqual(api.objects(`pods`, ns).map(p => p.metadata.name), [`standalone`]);

  const kept = api.seed.workload(`ReplicaSet`, ns, `kept`, {containers: [{name: `c`, image: `nginx`}]});
  api.seed.pod(ns, `kept-1`, {containers: [{name: `c`, image: `nginx`}]}, {ownerReferences: owner(kept)});
  await request(api, `DELETE`, `/apis/apps/v1/namespaces/${ns}/replicasets/kept?propagationPolicy=Orphan`);
  assert.ok(api.getObject(`pods`, ns, `kept-1`));
});

test(`after a compaction an old continue token is 410 Expired`, async () => {
  const ns = freshNamespace();
  for (const name of [`a`, `b`, `c`])
    api.seed.secret(ns, {metadata: {name}, data: {}});
  const first = await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets?limit=1`);
  api.compact();
  const next = await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets?limit=1&continue=${encodeURIComponent(first.json.metadata.continue)}`);
  assert.equal(next.status, 410);
  assert.equal(next.json.reason, `Expired`);
  assert.match(next.json.message, /^The provided continue parameter is too old to display a consistent list result\./);
  const fresh = await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets?limit=1`);
  assert.equal((await request(api, `GET`, `/api/v1/namespaces/${ns}/secrets?limit=1&continue=${encodeURIComponent(fresh.json.metadata.continue)}`)).status, 200);
});

test(`stop() ends open watches and keep-alive connections at once and frees the port`, async () => {
  const short = await startApiEmulator();
  const https = await import(`node:https`);
  const url = new URL(short.url);
  const agent = new https.Agent({keepAlive: true});
  const ended = new Promise<void>((resolve, reject) => {
    https.get({hostname: url.hostname, port: url.port, path: `/api/v1/secrets?watch=true`, ca: short.caPem, agent, headers: {authorization: `Bearer ${short.tokens.admin}`}}, res => {
      res.on(`data`, () => {});
      res.on(`end`, resolve);
      res.on(`error`, () => resolve());
      res.on(`close`, resolve);
    }).on(`error`, reject);
  });
  while (!short.requests.some(r => r.verb === `watch`))
    await new Promise(r => setTimeout(r, 10));
  const started = performance.now();
  await short.stop();
  await ended;
  agent.destroy();
  assert.ok(performance.now() - started < 1000, `stop took ${performance.now() - started} ms`);
  const net = await import(`node:net`);
  await assert.rejects(new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on(`error`, reject);
  }), /ECONNREFUSED/);
});
