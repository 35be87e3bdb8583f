/**
 * Builds doctor's plain-data cases from a failing pod, the verify verdict on its own pull secrets, and the pull
 * secrets around it (same namespace, other namespaces). Pure: the command gathers, this module decides which
 * secrets would match the image (with the same keyring function `explain` and `verify` use).
 */
import {parsePullSecret} from '../dockerconfig/parse.ts';
import {parseImageReference} from '../image/reference.ts';
import {buildKeyring, lookupCredentials} from '../keyring/keyring.ts';
import type {KubeObject} from '../ports.ts';
import {PULL_FAILURE_REASONS, suggestedServerKey} from './doctor.ts';
import type {DoctorCase, MatchingSecret, PullSecretsOrigin} from './doctor.ts';
import type {ServiceAccountState} from './effective.ts';
import {containerImages, pullSecretNames, serviceAccountOf} from './subjects.ts';
import type {VerifyResult} from './types.ts';

/** One container of a pod waiting because its image cannot be pulled. */
export type FailingContainer = {container: string; image: string; reason: string; message: string};

type StatusLike = {name?: unknown; image?: unknown; state?: {waiting?: {reason?: unknown; message?: unknown}}};

/** The containers of a pod waiting with ErrImagePull, ImagePullBackOff, InvalidImageName or ErrImageNeverPull. */
export function failingContainers(pod: KubeObject): FailingContainer[] {
  const status = (pod.status ?? {}) as Record<string, unknown>;
  const specImages = new Map(containerImages((pod.spec ?? {}) as Record<string, unknown>, true).map(container => [container.name, container.image]));
  const out: FailingContainer[] = [];
  for (const field of [`initContainerStatuses`, `containerStatuses`, `ephemeralContainerStatuses`]) {
    const list = status[field];
    if (!Array.isArray(list))
      continue;
    for (const entry of list as StatusLike[]) {
      const reason = entry.state?.waiting?.reason;
      if (typeof reason !== `string` || !(PULL_FAILURE_REASONS as readonly string[]).includes(reason))
        continue;
      const name = typeof entry.name === `string` ? entry.name : `?`;
      const message = entry.state?.waiting?.message;
      out.push({
        container: name,
        image: specImages.get(name) ?? (typeof entry.image === `string` ? entry.image : ``),
        reason,
        message: typeof message === `string` ? message : ``,
      });
    }
  }
  return out;
}

/** Pull secrets whose keys match an image: the first matching credential of each. */
export function secretsMatching(image: string, secrets: KubeObject[]): MatchingSecret[] {
  const parsed = parseImageReference(image);
  if (!parsed.ok)
    return [];
  const out: MatchingSecret[] = [];
  for (const secret of secrets) {
    const result = parsePullSecret(secret as Parameters<typeof parsePullSecret>[0]);
    if (result.status !== `ok`)
      continue;
    const lookup = lookupCredentials(buildKeyring([{source: secret.metadata.name, entries: result.entries}]), parsed.ref);
    const first = lookup.credentials[0];
    if (first)
      out.push({namespace: secret.metadata.namespace ?? ``, name: secret.metadata.name, key: first.key, username: first.username});
  }
  return out.sort((a, b) => (a.namespace + a.name < b.namespace + b.name ? -1 : 1));
}

/** Everything around one failing container that doctor's judgement needs. */
export type DoctorSurroundings = {
  pod: KubeObject;
  failing: FailingContainer;
  result: VerifyResult;
  events: string[];
  /** The pod's top-level controller (Deployment, CronJob…), undefined for a bare pod. */
  owner: {kind: string; name: string} | undefined;
  /** The imagePullSecrets of the pod template of the pod's controller, when it could be read. */
  ownerPullSecrets?: string[];
  /** Pull secrets of the pod's namespace (all of them, as read). */
  namespaceSecrets: KubeObject[];
  /** Pull secrets of other namespaces (cluster-wide typed list; empty when not readable). */
  otherSecrets: KubeObject[];
  /** Secrets that could not be listed (`cannot list secrets in web: forbidden (needs list on secrets)`), one statement each. */
  unsearched: string[];
  serviceAccount: (name: string) => ServiceAccountState;
  /** What is known of a secret of the pod's namespace, by name: a 403 is `forbidden`, neither found nor missing. */
  secretState: (name: string) => `found` | `missing` | `forbidden`;
};

/**
 * Where a pod's pull secrets came from. The ServiceAccount admission copies the account's list only into a pod
 * that lists none, so a non-empty list in the controller's pod template means the pod's own list. For a bare pod
 * (or an unreadable controller), a list the ServiceAccount holds entirely is taken as copied from it.
 */
export function pullSecretsOrigin(podList: string[], templateList: string[] | undefined, accountList: string[] | undefined): PullSecretsOrigin {
  if (podList.length === 0)
    return `none`;
  if (templateList !== undefined)
    return templateList.length > 0 ? `own` : `serviceaccount`;
  return accountList !== undefined && podList.every(name => accountList.includes(name)) ? `serviceaccount` : `own`;
}

/** Assembles a DoctorCase. */
export function doctorCase(input: DoctorSurroundings): DoctorCase {
  const {pod, failing, result} = input;
  const namespace = pod.metadata.namespace ?? `default`;
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  const podPullSecrets = pullSecretNames(spec);
  const serviceAccount = serviceAccountOf(spec) ?? `default`;
  const parsed = parseImageReference(failing.image);
  const registryHost = parsed.ok ? parsed.ref.domain : failing.image.split(`/`)[0] ?? ``;

  const own = new Set(podPullSecrets);
  const ownSecrets = input.namespaceSecrets.filter(secret => own.has(secret.metadata.name));
  const rejectedKeys: DoctorCase[`rejectedKeys`] = [];
  if (parsed.ok) {
    const sources = podPullSecrets.flatMap(name => {
      const secret = ownSecrets.find(candidate => candidate.metadata.name === name);
      if (!secret)
        return [];
      const parse = parsePullSecret(secret as Parameters<typeof parsePullSecret>[0]);
      return parse.status === `ok` ? [{source: `${namespace}/${name}`, entries: parse.entries}] : [];
    });
    const lookup = lookupCredentials(buildKeyring(sources), parsed.ref);
    if (lookup.credentials.length === 0)
      rejectedKeys.push(...lookup.rejected.map(rejected => ({source: rejected.source, key: rejected.key, reason: rejected.detail || rejected.reason})));
  }

  const missing = podPullSecrets.filter(name => input.secretState(name) === `missing`);
  const missingFoundElsewhere = missing.flatMap(name => {
    const found = input.otherSecrets.find(secret => secret.metadata.name === name && secret.metadata.namespace !== namespace);
    return found ? [{name, namespace: found.metadata.namespace ?? ``}] : [];
  });
  const sa = input.serviceAccount(serviceAccount);
  const defaultSa = serviceAccount === `default` ? undefined : input.serviceAccount(`default`);
  // Evidence that could not be read: the pod's secrets, its ServiceAccount (and `default`), the secrets they list.
  const listed = [sa, defaultSa].flatMap(state => (state?.state === `found` ? state.imagePullSecrets : []));
  const forbiddenSecrets = [...new Set([...podPullSecrets, ...listed])].filter(name => input.secretState(name) === `forbidden`);
  const forbiddenAccounts = [serviceAccount, ...(defaultSa ? [`default`] : [])].filter(name => input.serviceAccount(name).state === `forbidden`);
  const unreadable = [
    ...(forbiddenSecrets.length > 0 ? [`cannot read secrets in ${namespace}: forbidden (needs get or list on secrets; unread: ${forbiddenSecrets.join(`, `)})`] : []),
    ...(forbiddenAccounts.length > 0 ? [`cannot read serviceaccounts in ${namespace}: forbidden (needs get or list on serviceaccounts; unread: ${forbiddenAccounts.join(`, `)})`] : []),
  ];
  return {
    namespace,
    pod: pod.metadata.name,
    container: failing.container,
    image: failing.image,
    waitingReason: failing.reason,
    waitingMessage: failing.message,
    serviceAccount,
    podPullSecrets,
    pullSecretsFrom: pullSecretsOrigin(podPullSecrets, input.ownerPullSecrets, sa.state === `found` ? sa.imagePullSecrets : undefined),
    owner: input.owner,
    result,
    events: input.events,
    registryHost,
    suggestedKey: suggestedServerKey(registryHost),
    rejectedKeys,
    matchingHere: secretsMatching(failing.image, input.namespaceSecrets.filter(secret => !own.has(secret.metadata.name))),
    matchingElsewhere: secretsMatching(failing.image, input.otherSecrets.filter(secret => secret.metadata.namespace !== namespace)),
    missingFoundElsewhere,
    defaultServiceAccountSecrets: defaultSa?.state === `found` ? defaultSa.imagePullSecrets : undefined,
    serviceAccountSecrets: sa.state === `found` ? sa.imagePullSecrets : undefined,
    serviceAccountExists: sa.state !== `missing`,
    unreadable,
    unsearched: input.unsearched,
  };
}
