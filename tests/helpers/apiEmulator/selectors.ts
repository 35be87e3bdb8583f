/**
 * Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and field selectors
 * (`=`, `==`, `!=` on the fields the real server indexes), parsed once per request.
 */
import {errors} from './status.ts';

export type Matcher = (obj: any) => boolean;

type LabelRequirement = {key: string; op: `=` | `!=` | `in` | `notin` | `exists` | `!`; values: string[]};

/** Parses a label selector into a predicate over an object's labels. */
export function parseLabelSelector(selector: string): Matcher {
  const reqs = splitTopLevel(selector).map(parseLabelRequirement);
  if (reqs.length === 0)
    return () => true;
  return obj => {
    const labels: Record<string, string> = obj?.metadata?.labels ?? {};
    return reqs.every(r => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      switch (r.op) {
        case `=`: return has && labels[r.key] === r.values[0];
        case `!=`: return !has || labels[r.key] !== r.values[0];
        case `in`: return has && r.values.includes(labels[r.key]!);
        case `notin`: return !has || !r.values.includes(labels[r.key]!);
        case `exists`: return has;
        case `!`: return !has;
      }
    });
  };
}

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = ``;
  for (const ch of s) {
    if (ch === `(`) depth++;
    if (ch === `)`) depth--;
    if (ch === `,` && depth === 0) {
      parts.push(current);
      current = ``;
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map(p => p.trim()).filter(p => p !== ``);
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function parseLabelRequirement(part: string): LabelRequirement {
  let m: RegExpMatchArray | null;
  let req: LabelRequirement;
  if ((m = part.match(/^!\s*(\S+)$/))) {
    req = {key: m[1]!, op: `!`, values: []};
  } else if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
    req = {key: m[1]!, op: m[2] as `in` | `notin`, values: m[3]!.split(`,`).map(v => v.trim())};
  } else if ((m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/))) {
    req = {key: m[1]!, op: m[2] === `!=` ? `!=` : `=`, values: [m[3]!.trim()]};
  } else if ((m = part.match(/^([^=!\s(),]+)$/))) {
    req = {key: m[1]!, op: `exists`, values: []};
  } else {
    throw errors.badRequest(`unable to parse requirement: found '${part}', expected: identifier`);
  }
  if (!LABEL_KEY.test(req.key))
    throw errors.badRequest(`unable to parse requirement: values[0][${req.key}]: Invalid value: "${req.key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  for (const v of req.values) {
    if (!LABEL_VALUE.test(v) || v.length > 63)
      throw errors.badRequest(`unable to parse requirement: values[0][${req.key}]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  }
  return req;
}

/** Field paths each resource supports in field selectors (the real server rejects others). */
const FIELDS: Record<string, Record<string, (obj: any) => string>> = {
  '*': {
    'metadata.name': o => o.metadata?.name ?? ``,
    'metadata.namespace': o => o.metadata?.namespace ?? ``,
  },
  secrets: {type: o => o.type ?? ``},
  pods: {
    'spec.serviceAccountName': o => o.spec?.serviceAccountName ?? ``,
    'spec.nodeName': o => o.spec?.nodeName ?? ``,
    'spec.restartPolicy': o => o.spec?.restartPolicy ?? ``,
    'spec.schedulerName': o => o.spec?.schedulerName ?? ``,
    'status.phase': o => o.status?.phase ?? ``,
    'status.podIP': o => o.status?.podIP ?? ``,
    'status.nominatedNodeName': o => o.status?.nominatedNodeName ?? ``,
  },
  events: {
    'involvedObject.kind': o => o.involvedObject?.kind ?? ``,
    'involvedObject.namespace': o => o.involvedObject?.namespace ?? ``,
    'involvedObject.name': o => o.involvedObject?.name ?? ``,
    'involvedObject.uid': o => o.involvedObject?.uid ?? ``,
    'involvedObject.apiVersion': o => o.involvedObject?.apiVersion ?? ``,
    'involvedObject.resourceVersion': o => o.involvedObject?.resourceVersion ?? ``,
    'involvedObject.fieldPath': o => o.involvedObject?.fieldPath ?? ``,
    reason: o => o.reason ?? ``,
    reportingComponent: o => o.reportingComponent ?? ``,
    source: o => o.source?.component ?? ``,
    type: o => o.type ?? ``,
  },
  namespaces: {'status.phase': o => o.status?.phase ?? ``},
  replicasets: {'status.replicas': o => String(o.status?.replicas ?? 0)},
  replicationcontrollers: {'status.replicas': o => String(o.status?.replicas ?? 0)},
  jobs: {'status.successful': o => String(o.status?.succeeded ?? 0)},
};

/** A parsed field selector; `name` is set when it pins `metadata.name=` (lets the store skip a scan). */
export type FieldSelector = {matches: Matcher; name?: string; namespace?: string};

/** Parses a field selector for a resource; unsupported fields are a 400 like the real server's. */
export function parseFieldSelector(resource: string, selector: string): FieldSelector {
  const terms = selector.split(`,`).map(s => s.trim()).filter(s => s !== ``);
  const checks: Matcher[] = [];
  let name: string | undefined;
  let namespace: string | undefined;
  for (const term of terms) {
    const m = term.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m)
      throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const getter = FIELDS[`*`]![field] ?? FIELDS[resource]?.[field];
    if (!getter)
      throw fieldError(field);
    if (op === `!=`) {
      checks.push(o => getter(o) !== value);
    } else {
      checks.push(o => getter(o) === value);
      if (field === `metadata.name`) name = value;
      if (field === `metadata.namespace`) namespace = value;
    }
  }
  return {matches: o => checks.every(c => c(o)), name, namespace};
}

function fieldError(field: string) {
  // Wording of the real server: `field label not supported: <field>`.
  return errors.badRequest(`field label not supported: ${field}`);
}
