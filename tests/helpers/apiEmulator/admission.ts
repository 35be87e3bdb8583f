/**
 * What the real API server does to an object between decoding and storage: defaulting
 * (the fields a real cluster adds), validation with `422 Invalid` field causes, and the
 * ServiceAccount admission plugin for pods.
 */
import {ApiError, errors} from './status.ts';
import type {ResourceDef} from './discovery.ts';
import {jsonEqual} from './patch.ts';

type Cause = {field: string; type: string; detail: string; value?: unknown};

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const SUBDOMAIN_MSG = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
const LABEL_MSG = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;

function nameCauses(def: ResourceDef, name: string | undefined, path = `metadata.name`): Cause[] {
  if (!name)
    return [{field: path, type: `Required value`, detail: `name or generateName is required`}];
  if (def.resource === `namespaces`) {
    if (name.length > 63)
      return [{field: path, type: `Invalid value`, value: name, detail: `must be no more than 63 characters`}];
    if (!DNS1123_LABEL.test(name))
      return [{field: path, type: `Invalid value`, value: name, detail: LABEL_MSG}];
    return [];
  }
  if (name.length > 253)
    return [{field: path, type: `Invalid value`, value: name, detail: `must be no more than 253 characters`}];
  if (!DNS1123_SUBDOMAIN.test(name))
    return [{field: path, type: `Invalid value`, value: name, detail: SUBDOMAIN_MSG}];
  return [];
}

/** Go's encoding/json error for a value that is not a JSON object, approximated for the common cases. */
function jsonObjectError(bytes: Buffer): string | undefined {
  const text = bytes.toString(`utf8`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const trimmed = text.trimStart();
    if (trimmed === ``)
      return `unexpected end of JSON input`;
    const first = trimmed[0]!;
    if (!`{["-0123456789tfn`.includes(first))
      return `invalid character '${first}' looking for beginning of value`;
    return `unexpected end of JSON input`;
  }
  if (parsed === null || (typeof parsed === `object` && !Array.isArray(parsed)))
    return undefined;
  const kind = Array.isArray(parsed) ? `array` : typeof parsed === `string` ? `string` : typeof parsed === `number` ? `number` : `bool`;
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

/** Checks base64 in `data` the way Go's decoder does: a bad value makes the whole body undecodable (400). */
export function checkSecretEncoding(body: any): void {
  const data = body?.data;
  if (data === undefined || data === null)
    return;
  for (const value of Object.values(data)) {
    if (typeof value !== `string` || !BASE64.test(value)) {
      const s = String(value);
      let at = 0;
      while (at < s.length && /[A-Za-z0-9+/]/.test(s[at]!)) at++;
      throw errors.badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}`);
    }
  }
}

function validateSecret(obj: any, old: any | undefined): Cause[] {
  const causes: Cause[] = [];
  const data: Record<string, string> = obj.data ?? {};
  for (const key of Object.keys(data)) {
    if (!CONFIG_KEY.test(key))
      causes.push({field: `data[${key}]`, type: `Invalid value`, value: key, detail: `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`});
  }
  const typed = (key: string) => {
    if (!(key in data)) {
      causes.push({field: `data[${key}]`, type: `Required value`, detail: ``});
      return;
    }
    const err = jsonObjectError(Buffer.from(data[key]!, `base64`));
    if (err)
      causes.push({field: `data[${key}]`, type: `Invalid value`, value: `<secret contents redacted>`, detail: err});
  };
  switch (obj.type) {
    case `kubernetes.io/dockerconfigjson`: typed(`.dockerconfigjson`); break;
    case `kubernetes.io/dockercfg`: typed(`.dockercfg`); break;
    case `kubernetes.io/tls`:
      if (!(`tls.crt` in data)) causes.push({field: `data[tls.crt]`, type: `Required value`, detail: ``});
      if (!(`tls.key` in data)) causes.push({field: `data[tls.key]`, type: `Required value`, detail: ``});
      break;
    case `kubernetes.io/basic-auth`:
      if (!(`username` in data) && !(`password` in data))
        causes.push({field: `data[username]`, type: `Required value`, detail: ``});
      break;
    case `kubernetes.io/ssh-auth`:
      if (!(`ssh-privatekey` in data)) causes.push({field: `data[ssh-privatekey]`, type: `Required value`, detail: ``});
      break;
    default: break;
  }
  const size = Object.values(data).reduce((n, v) => n + Buffer.byteLength(v, `base64`), 0);
  if (size > 1024 * 1024)
    causes.push({field: `data`, type: `Too long`, detail: `may not be more than 1048576 bytes`});
  if (old) {
    if (old.type !== obj.type)
      causes.push({field: `type`, type: `Invalid value`, value: obj.type, detail: `field is immutable`});
    if (old.immutable === true) {
      if (!jsonEqual(old.data ?? {}, obj.data ?? {}))
        causes.push({field: `data`, type: `Forbidden`, detail: `field is immutable when \`immutable\` is set`});
      if (obj.immutable !== true)
        causes.push({field: `immutable`, type: `Forbidden`, detail: `field is immutable when \`immutable\` is set`});
    }
  }
  return causes;
}

function validatePodSpec(spec: any, path: string): Cause[] {
  const causes: Cause[] = [];
  if (!spec || typeof spec !== `object`)
    return [{field: path, type: `Required value`, detail: ``}];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0)
    causes.push({field: `${path}.containers`, type: `Required value`, detail: ``});
  for (const [list, items] of [[`containers`, containers], [`initContainers`, spec.initContainers]] as const) {
    if (!Array.isArray(items))
      continue;
    const seen = new Set<string>();
    items.forEach((c: any, i: number) => {
      const p = `${path}.${list}[${i}]`;
      if (!c?.name)
        causes.push({field: `${p}.name`, type: `Required value`, detail: ``});
      else if (seen.has(c.name))
        causes.push({field: `${p}.name`, type: `Duplicate value`, value: c.name, detail: ``});
      else if (!DNS1123_LABEL.test(c.name))
        causes.push({field: `${p}.name`, type: `Invalid value`, value: c.name, detail: LABEL_MSG});
      seen.add(c?.name);
      if (!c?.image)
        causes.push({field: `${p}.image`, type: `Required value`, detail: ``});
    });
  }
  if (Array.isArray(spec.imagePullSecrets)) {
    spec.imagePullSecrets.forEach((r: any, i: number) => {
      if (!r?.name)
        causes.push({field: `${path}.imagePullSecrets[${i}].name`, type: `Required value`, detail: ``});
    });
  }
  return causes;
}

function podTemplatePath(def: ResourceDef): string | undefined {
  switch (def.resource) {
    case `deployments`: case `statefulsets`: case `daemonsets`: case `replicasets`: case `jobs`: case `replicationcontrollers`:
      return `spec.template`;
    case `cronjobs`:
      return `spec.jobTemplate.spec.template`;
    default:
      return undefined;
  }
}

function at(obj: any, path: string): any {
  return path.split(`.`).reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/** Validates an object for create (old undefined) or update; throws 422 Invalid with causes. */
export function validate(def: ResourceDef, obj: any, old?: any): void {
  const causes: Cause[] = [...nameCauses(def, obj.metadata?.name)];
  if (def.resource === `secrets`)
    causes.push(...validateSecret(obj, old));
  if (def.resource === `pods`)
    causes.push(...validatePodSpec(obj.spec, `spec`));
  const tpl = podTemplatePath(def);
  if (tpl) {
    causes.push(...validatePodSpec(at(obj, `${tpl}.spec`), `${tpl}.spec`));
    if ([`deployments`, `statefulsets`, `daemonsets`, `replicasets`].includes(def.resource)) {
      const selector = obj.spec?.selector;
      if (!selector || (!selector.matchLabels && !selector.matchExpressions)) {
        causes.push({field: `spec.selector`, type: `Required value`, detail: ``});
      } else if (selector.matchLabels) {
        const labels = at(obj, `${tpl}.metadata.labels`) ?? {};
        if (!Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v))
          causes.push({field: `${tpl}.metadata.labels`, type: `Invalid value`, value: `map[string]string{…}`, detail: `\`selector\` does not match template \`labels\``});
      }
      if (old && !jsonEqual(old.spec?.selector, obj.spec?.selector))
        causes.push({field: `spec.selector`, type: `Invalid value`, value: `v1.LabelSelector{…}`, detail: `field is immutable`});
    }
    if (def.resource === `jobs` && old && !jsonEqual(old.spec?.template, obj.spec?.template))
      causes.push({field: `spec.template`, type: `Invalid value`, value: `core.PodTemplateSpec{…}`, detail: `field is immutable`});
  }
  if (def.resource === `pods` && old)
    causes.push(...validatePodUpdate(old, obj));
  if (causes.length > 0)
    throw errors.invalid(def.kind, def.group, obj.metadata?.name ?? ``, causes);
}

function validatePodUpdate(old: any, obj: any): Cause[] {
  // Only images, activeDeadlineSeconds and tolerations may change on a running pod's spec.
  const normalize = (spec: any) => {
    const s = structuredClone(spec ?? {});
    for (const list of [`containers`, `initContainers`]) {
      for (const c of s[list] ?? [])
        delete c.image;
    }
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    return s;
  };
  if (jsonEqual(normalize(old.spec), normalize(obj.spec)))
    return [];
  return [{field: `spec`, type: `Forbidden`, detail: `pod updates may not change fields other than \`spec.containers[*].image\`,\`spec.initContainers[*].image\`,\`spec.activeDeadlineSeconds\`,\`spec.tolerations\` (only additions to existing tolerations),\`spec.terminationGracePeriodSeconds\` (allow it to be set to 1 if it was previously negative)`}];
}

function defaultContainer(c: any): void {
  if (!c || typeof c !== `object`)
    return;
  if (c.imagePullPolicy === undefined && typeof c.image === `string`) {
    const last = c.image.split(`/`).pop() ?? ``;
    const hasDigest = c.image.includes(`@`);
    const tag = last.includes(`:`) ? last.split(`:`).pop() : undefined;
    c.imagePullPolicy = !hasDigest && (tag === undefined || tag === `latest`) ? `Always` : `IfNotPresent`;
  }
  c.terminationMessagePath ??= `/dev/termination-log`;
  c.terminationMessagePolicy ??= `File`;
  c.resources ??= {};
}

/** Defaults a PodSpec the way the real server does (the fields a `kubectl get -o json` shows). */
export function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== `object`)
    return;
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  spec.restartPolicy ??= `Always`;
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= `ClusterFirst`;
  spec.securityContext ??= {};
  spec.schedulerName ??= `default-scheduler`;
  spec.enableServiceLinks ??= true;
}

/** Applies server-side defaults in place (called on a private copy). */
export function applyDefaults(def: ResourceDef, obj: any): void {
  switch (def.resource) {
    case `namespaces`:
      obj.metadata.labels = {...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name};
      obj.spec ??= {};
      obj.spec.finalizers ??= [`kubernetes`];
      obj.status ??= {phase: `Active`};
      break;
    case `secrets`:
      obj.type ??= `Opaque`;
      if (obj.stringData) {
        obj.data = {...obj.data};
        for (const [k, v] of Object.entries(obj.stringData))
          obj.data[k] = Buffer.from(String(v), `utf8`).toString(`base64`);
        delete obj.stringData;
      }
      break;
    case `pods`:
      obj.spec ??= {};
      defaultPodSpec(obj.spec);
      obj.spec.serviceAccountName ??= obj.spec.serviceAccount ?? `default`;
      obj.spec.serviceAccount = obj.spec.serviceAccountName;
      obj.spec.priority ??= 0;
      obj.spec.preemptionPolicy ??= `PreemptLowerPriority`;
      obj.status ??= {phase: `Pending`, qosClass: `BestEffort`};
      break;
    case `deployments`:
      obj.spec ??= {};
      obj.spec.replicas ??= 1;
      obj.spec.revisionHistoryLimit ??= 10;
      obj.spec.progressDeadlineSeconds ??= 600;
      obj.spec.strategy ??= {type: `RollingUpdate`, rollingUpdate: {maxUnavailable: `25%`, maxSurge: `25%`}};
      defaultPodSpec(obj.spec.template?.spec);
      obj.status ??= {};
      break;
    case `statefulsets`: case `daemonsets`: case `replicasets`: case `replicationcontrollers`:
      obj.spec ??= {};
      if (def.resource !== `daemonsets`)
        obj.spec.replicas ??= 1;
      defaultPodSpec(obj.spec.template?.spec);
      obj.status ??= {};
      break;
    case `jobs`:
      obj.spec ??= {};
      obj.spec.backoffLimit ??= 6;
      obj.spec.completions ??= 1;
      obj.spec.parallelism ??= 1;
      if (obj.spec.template?.spec)
        obj.spec.template.spec.restartPolicy ??= `Never`;
      defaultPodSpec(obj.spec.template?.spec);
      obj.status ??= {};
      break;
    case `cronjobs`:
      obj.spec ??= {};
      obj.spec.concurrencyPolicy ??= `Allow`;
      obj.spec.suspend ??= false;
      obj.spec.successfulJobsHistoryLimit ??= 3;
      obj.spec.failedJobsHistoryLimit ??= 1;
      defaultPodSpec(obj.spec.jobTemplate?.spec?.template?.spec);
      obj.status ??= {};
      break;
    default:
      break;
  }
}

/**
 * The ServiceAccount admission plugin on pod create: the pod's SA must exist, and its
 * `imagePullSecrets` are copied only when the pod lists none.
 */
export function admitPod(pod: any, lookupServiceAccount: (namespace: string, name: string) => any | undefined, opts: {rejectMissing: boolean; generatedName?: boolean}): void {
  const ns = pod.metadata.namespace;
  const saName = pod.spec.serviceAccountName;
  const sa = lookupServiceAccount(ns, saName);
  if (!sa) {
    if (opts.rejectMissing)
      throw errors.forbidden(`pods`, ``, opts.generatedName ? pod.metadata.generateName : pod.metadata.name, `error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`);
    return;
  }
  if ((!pod.spec.imagePullSecrets || pod.spec.imagePullSecrets.length === 0) && Array.isArray(sa.imagePullSecrets) && sa.imagePullSecrets.length > 0)
    pod.spec.imagePullSecrets = sa.imagePullSecrets.map((r: any) => ({name: r.name}));
}

export {ApiError};
