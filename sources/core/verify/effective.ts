/**
 * Effective pull secrets of a pod spec, as the kubelet will see them (docs/credential-rules.md R2.2):
 * - a pod that exists keeps the list it got at creation (`spec.imagePullSecrets` is immutable);
 * - a pod still to be created (template, manifest) gets its own list, or — only when that list is empty — the
 *   ServiceAccount's list as admission copies it (`default` when unset). A missing ServiceAccount makes admission
 *   refuse the pod.
 */
import type {KubeObject} from '../ports.ts';
import type {PodSubject} from './types.ts';

/** What is known about one ServiceAccount. */
export type ServiceAccountState =
  | {state: `found`; imagePullSecrets: string[]}
  | {state: `missing`}
  | {state: `forbidden`; message: string};

/** What is known about one Secret. */
export type SecretState =
  | {state: `found`; secret: KubeObject}
  | {state: `missing`}
  | {state: `forbidden`; message: string};

/** The cluster (plus manifests) as the engine sees it: plain lookups, filled by the gather adapter. */
export type ClusterView = {
  serviceAccount(namespace: string, name: string): ServiceAccountState;
  secret(namespace: string, name: string): SecretState;
};

/** The outcome of the admission/kubelet rules for one subject. */
export type EffectiveSecrets = {
  /** Secret names the kubelet will use, in order. */
  names: string[];
  from: `pod` | `serviceaccount` | `explicit`;
  serviceAccount: string;
  /** `ns/name` when the ServiceAccount does not exist and the pod could not be created. */
  serviceAccountMissing?: string;
  warnings: string[];
};

/** `imagePullSecrets` names of a ServiceAccount object. */
export function serviceAccountPullSecrets(serviceAccount: KubeObject): string[] {
  const list = serviceAccount.imagePullSecrets;
  if (!Array.isArray(list))
    return [];
  return list
    .map(ref => (typeof ref === `object` && ref !== null ? (ref as {name?: unknown}).name : undefined))
    .filter((name): name is string => typeof name === `string` && name !== ``);
}

/** Applies the admission and kubelet rules to one subject. */
export function effectivePullSecrets(subject: PodSubject, view: Pick<ClusterView, `serviceAccount`>): EffectiveSecrets {
  const serviceAccount = subject.serviceAccountName ?? `default`;
  const saLabel = `${subject.namespace}/${serviceAccount}`;
  if (subject.origin === `images`)
    return {names: subject.ownPullSecrets, from: `explicit`, serviceAccount, warnings: []};

  if (subject.origin === `pod`)
    return {names: subject.ownPullSecrets, from: `pod`, serviceAccount, warnings: driftWarnings(subject, view, serviceAccount)};

  if (subject.ownPullSecrets.length > 0) {
    // The ServiceAccount must still exist for admission to accept the pod, but its list is ignored.
    const sa = view.serviceAccount(subject.namespace, serviceAccount);
    return {
      names: subject.ownPullSecrets,
      from: `pod`,
      serviceAccount,
      serviceAccountMissing: sa.state === `missing` ? saLabel : undefined,
      warnings: sa.state === `forbidden` ? [`cannot read serviceaccount ${saLabel}: ${sa.message}`] : [],
    };
  }

  const sa = view.serviceAccount(subject.namespace, serviceAccount);
  switch (sa.state) {
    case `missing`:
      return {names: [], from: `serviceaccount`, serviceAccount, serviceAccountMissing: saLabel, warnings: []};
    case `forbidden`:
      return {names: [], from: `serviceaccount`, serviceAccount, warnings: [`cannot read serviceaccount ${saLabel}: ${sa.message}; its imagePullSecrets are unknown`]};
    case `found`:
      return {names: sa.imagePullSecrets, from: `serviceaccount`, serviceAccount, warnings: []};
  }
}

/**
 * A running pod keeps the list admission gave it. When its ServiceAccount now lists secrets the pod lacks, and the
 * pod's list plausibly came from that ServiceAccount (the owner's template sets none, or the pod's list is a subset
 * of the ServiceAccount's), the change reaches the pod only when it is re-created.
 */
function driftWarnings(subject: PodSubject, view: Pick<ClusterView, `serviceAccount`>, serviceAccount: string): string[] {
  if (subject.ownerTemplateHasOwnSecrets === true)
    return [];
  const sa = view.serviceAccount(subject.namespace, serviceAccount);
  if (sa.state !== `found`)
    return [];
  const podList = new Set(subject.ownPullSecrets);
  const lacking = sa.imagePullSecrets.filter(name => !podList.has(name));
  if (lacking.length === 0)
    return [];
  const saList = new Set(sa.imagePullSecrets);
  const cameFromServiceAccount = subject.ownerTemplateHasOwnSecrets === false || subject.ownPullSecrets.every(name => saList.has(name));
  if (!cameFromServiceAccount)
    return [];
  return [`serviceaccount ${subject.namespace}/${serviceAccount} now lists ${lacking.join(`, `)}, which this pod lacks: the change applies only to pods created afterwards (restart to apply)`];
}

/**
 * The objects a verdict depends on that could not be read (403), as `secret ns/name` / `serviceaccount ns/name`:
 * the ServiceAccount of a pod still to be created (its list, or only its existence when the pod lists its own
 * secrets) and every effective pull secret. A running pod's ServiceAccount only feeds drift warnings and does not
 * count. Any entry means the check is incomplete: an unreadable secret may be undecodable (which fails every pull
 * of the pod) or hold a rejected credential (which stops the anonymous fallback).
 */
export function unreadableReferences(subjects: PodSubject[], view: Pick<ClusterView, `serviceAccount`> & {secret(namespace: string, name: string): {state: string}}): string[] {
  const found = new Set<string>();
  for (const subject of subjects) {
    if (subject.origin === `template` || subject.origin === `manifest`) {
      const name = subject.serviceAccountName ?? `default`;
      if (view.serviceAccount(subject.namespace, name).state === `forbidden`)
        found.add(`serviceaccount ${subject.namespace}/${name}`);
    }
    for (const name of effectivePullSecrets(subject, view).names) {
      if (view.secret(subject.namespace, name).state === `forbidden`)
        found.add(`secret ${subject.namespace === `` ? `` : `${subject.namespace}/`}${name}`);
    }
  }
  return [...found];
}
