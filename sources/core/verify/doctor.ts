/**
 * doctor: from a pod failing to pull, and the verify engine's verdict on its own pull secrets, to the root cause in
 * plain words and the exact commands that fix it. Pure; covers every row of the "Common Issues" table of the seed
 * recipe (missing or wrong imagePullSecrets, wrong credentials, secret not found, secret in another namespace,
 * expired ECR token, server key not matching the image, custom ServiceAccount lacking the secret), plus image not
 * found, rate limiting, unreachable registry, TLS, invalid names and `imagePullPolicy: Never`.
 */
import {escapeControl} from '../text.ts';
import type {VerifyResult} from './types.ts';
import {kubectl, piped, pullsecret, renderCommand} from '../shell.ts';
import type {ShellArg, ShellCommand} from '../shell.ts';
import {WORKLOADS, isWorkloadKind} from '../workloads.ts';

/** Waiting reasons that mean "the image could not be pulled". */
export const PULL_FAILURE_REASONS = [`ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`, `ErrImageNeverPull`] as const;

/** The KEP-2535 behaviour behind "it worked on older nodes": said with every ErrImageNeverPull diagnosis. */
const NEVER_PULL_NOTE = `worked on older nodes, fails on 1.35+ ones? From 1.35 the kubelet (KubeletEnsureSecretPulledImages, KEP-2535, on by default) lets a pod use a cached image pulled with credentials only when its own pull secrets match (docs/kubelet-pulls.md)`;

/** Stable identifiers of the diagnoses (the `-o json` `diagnosis.id`). */
export type DiagnosisId =
  | `missing-pull-secrets`
  | `custom-serviceaccount-missing-secret`
  | `pod-predates-serviceaccount-change`
  | `secret-not-found`
  | `secret-in-other-namespace`
  | `secret-invalid`
  | `server-key-mismatch`
  | `wrong-credentials`
  | `access-denied`
  | `ecr-token-expired`
  | `image-not-found`
  | `invalid-image`
  | `rate-limited`
  | `registry-unreachable`
  | `registry-tls`
  | `registry-unavailable`
  | `image-never-pull`
  | `platform-missing`
  | `pulls-now`
  | `evidence-unreadable`;

/** One step of a fix: a command printed exactly as a test runs it, or an instruction for what no command can do. */
export type FixStep = {command: ShellCommand; why?: string} | {instruction: string};

export type Diagnosis = {
  id: DiagnosisId;
  /** The root cause in plain words (one or two sentences, no secrets). */
  cause: string;
  /** What to do, in order. */
  fix: FixStep[];
  /** Extra facts: rejected keys, the key that would match, event messages. */
  notes: string[];
};

/** A pull secret somewhere in the cluster whose keys match the failing image. */
export type MatchingSecret = {namespace: string; name: string; key: string; username: string};

/**
 * Where the pod's `imagePullSecrets` came from: its own spec or pod template (`own`: a ServiceAccount change never
 * reaches it), its ServiceAccount at admission (`serviceaccount`), or nowhere (`none`: the list is empty).
 */
export type PullSecretsOrigin = `own` | `serviceaccount` | `none`;

/** Plain data about one failing container, gathered by the command. */
export type DoctorCase = {
  namespace: string;
  pod: string;
  container: string;
  image: string;
  waitingReason: string;
  waitingMessage: string;
  /** The pod's ServiceAccount (`default` when unset). */
  serviceAccount: string;
  /** The pod's actual `imagePullSecrets`. */
  podPullSecrets: string[];
  /** Where `podPullSecrets` came from. */
  pullSecretsFrom: PullSecretsOrigin;
  /** The pod's top-level controller (Deployment, StatefulSet, CronJob…), undefined for a bare pod. */
  owner: {kind: string; name: string} | undefined;
  /** The verify verdict for this container with the pod's own pull secrets. */
  result: VerifyResult;
  /** Messages of the pod's recent events about pulling (Failed, BackOff, FailedToRetrieveImagePullSecret). */
  events: string[];
  /** Registry host as written in the image (`docker.io` for Hub images) and the server key that would match it. */
  registryHost: string;
  suggestedKey: string;
  /** Keys in the pod's secrets that did not match the image, with the reason. */
  rejectedKeys: Array<{source: string; key: string; reason: string}>;
  /** Secrets in the pod's namespace, not used by the pod, that match the image. */
  matchingHere: MatchingSecret[];
  /** Secrets in other namespaces that match the image (sync candidates). */
  matchingElsewhere: MatchingSecret[];
  /** Missing secrets of the pod that exist under the same name in other namespaces. */
  missingFoundElsewhere: Array<{name: string; namespace: string}>;
  /** The `default` ServiceAccount's pull secrets, when the pod uses another one. */
  defaultServiceAccountSecrets?: string[];
  /** False when the pod's ServiceAccount no longer exists (a fix through it creates it first). */
  serviceAccountExists?: boolean;
  /** The pod's ServiceAccount's current pull secrets (to spot pods created before a fix). */
  serviceAccountSecrets?: string[];
  /**
   * What the diagnosis needs but could not be read (403), one statement each, e.g.
   * `cannot read secrets in web: forbidden (needs get or list on secrets; unread: regcred)`.
   */
  unreadable: string[];
  /**
   * Secrets that could not be searched for a match (a refused list), one statement each, e.g.
   * `cannot list secrets in web: forbidden (needs list on secrets)`: an absence of matches proves nothing there.
   */
  unsearched: string[];
};

/** The registry username a fix cannot know: the user sets it. */
const USERNAME: ShellArg = {variable: `REGISTRY_USERNAME`};

/** Diagnoses one failing container. */
export function diagnose(input: DoctorCase): Diagnosis {
  const {namespace: ns, result} = input;
  const notes = input.events.slice(-3).map(message => `event: ${message}`);

  if (input.waitingReason === `ErrImageNeverPull`)
    return {id: `image-never-pull`, cause: `imagePullPolicy is Never and ${input.image} is not on the node (since Kubernetes 1.35 also when this pod's credentials cannot prove access to a cached private image)`, fix: neverPullFix(input), notes: [...notes, NEVER_PULL_NOTE]};

  // Without the pod's secrets or ServiceAccounts, any cause past the image name would be a guess: say what is missing.
  if (input.unreadable.length > 0 && result.status !== `invalid-image`)
    return diagnoseUnreadable(input, notes);

  switch (result.status) {
    case `invalid-image`:
      return {id: `invalid-image`, cause: `the image name ${JSON.stringify(input.image)} is invalid: ${result.detail}`, fix: setImageFix(input, `a valid image reference`), notes};
    case `secret-invalid`: {
      const broken = brokenSecretName(result.detail) ?? input.podPullSecrets[0] ?? `regcred`;
      return {
        id: `secret-invalid`,
        cause: `${result.detail}; one undecodable pull secret fails every pull of the pod, even images other secrets could pull`,
        fix: [
          {command: pullsecret(`decode`, broken, `-n`, ns), why: `see what is wrong`},
          {command: pullsecret(`add`, broken, `-n`, ns, `--docker-server`, input.suggestedKey, `--docker-username`, USERNAME, `--docker-password-stdin`, `--replace`, `--force`), why: `write it anew as a valid pull secret`},
          ...retryFix(input),
        ],
        notes,
      };
    }
    case `secret-missing`:
      return diagnoseMissingSecret(input, notes);
    case `no-credentials`:
      return diagnoseNoCredentials(input, notes);
    case `unauthorized`:
    case `denied`: {
      const credential = result.credential;
      const secret = secretName(credential?.source);
      const hub = input.registryHost === `docker.io` && credential?.username.includes(`@`) === true;
      // rotate names the key that failed, so that this entry, and no other registry's, gets the new credentials.
      const server = credential?.key ?? input.suggestedKey;
      const rotate = (username: ShellArg) => pullsecret(`rotate`, secret, `-n`, ns, `--docker-server`, server, `--docker-username`, username, `--docker-password-stdin`);
      return {
        id: result.status === `unauthorized` ? `wrong-credentials` : `access-denied`,
        cause: result.status === `unauthorized`
          ? `the registry rejected the credentials of user ${credential?.username ?? `?`} from secret ${credential?.source ?? `?`} (key ${credential?.key ?? `?`}); the kubelet does not retry anonymously${hub ? `; Docker Hub needs the Docker ID as username, not the e-mail address` : ``}`
          : `the registry accepted user ${credential?.username ?? `?`} (secret ${credential?.source ?? `?`}) but denies it pull access to this repository, or the repository does not exist: ${result.detail}`,
        fix: result.status === `unauthorized`
          ? [{command: rotate(hub ? {variable: `DOCKER_ID`} : credential?.username ?? USERNAME)}, ...retryFix(input)]
          : [{instruction: `grant ${credential?.username ?? `the user`} pull access to the repository in the registry, or give the secret a user that has it:`}, {command: rotate(USERNAME)}, ...retryFix(input)],
        notes,
      };
    }
    case `expired`: {
      const secret = secretName(result.credential?.source);
      const region = /\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\./.exec(input.registryHost)?.[1] ?? `REGION`;
      const server = result.credential?.key ?? input.suggestedKey;
      return {
        id: `ecr-token-expired`,
        cause: `the ECR token in secret ${result.credential?.source ?? `?`} has expired (ECR tokens live 12 hours): ${result.detail}`,
        fix: [
          {command: piped({argv: [`aws`, `ecr`, `get-login-password`, `--region`, region]}, pullsecret(`rotate`, secret, `-n`, ns, `--docker-server`, server, `--docker-username`, `AWS`, `--docker-password-stdin`))},
          ...retryFix(input),
        ],
        notes: [...notes, `for a lasting fix use the kubelet's ecr-credential-provider, or refresh the secret on a schedule (every 6–10 h)`],
      };
    }
    case `not-found`:
      return {id: `image-not-found`, cause: `${input.image} does not exist: ${result.detail}`, fix: [{instruction: `push the image, or point the workload at one that exists:`}, ...setImageFix(input, `an image that exists`)], notes};
    case `rate-limited`:
      return {
        id: `rate-limited`,
        cause: `the registry rate-limits pulls: ${result.detail}`,
        fix: [
          {command: pullsecret(`add`, `regcred`, `-n`, ns, `--docker-server`, input.suggestedKey, `--docker-username`, USERNAME, `--docker-password-stdin`), why: `authenticated pulls get a higher limit`},
          ...useSecretFix(input, `regcred`),
        ],
        notes,
      };
    case `unreachable`:
      return {id: `registry-unreachable`, cause: `the registry ${input.registryHost} cannot be reached: ${result.detail}`, fix: [{instruction: `check DNS, routes, proxies and firewalls from the nodes to ${input.registryHost}`}], notes};
    case `tls-error`:
      return {
        id: `registry-tls`,
        cause: `TLS with ${input.registryHost} fails: ${result.detail}`,
        fix: [
          {instruction: `install the registry's CA on the nodes (containerd: /etc/containerd/certs.d/${input.registryHost}/hosts.toml ca = …)`},
          {command: pullsecret(`verify`, `--image`, input.image, `--certificate-authority`, {variable: `CA_FILE`}, ...input.podPullSecrets.flatMap(name => [`--secret`, name]), `-n`, ns), why: `check again with that CA`},
        ],
        notes,
      };
    case `unavailable`:
      return {id: `registry-unavailable`, cause: `the registry ${input.registryHost} answers with server errors: ${result.detail}`, fix: [{instruction: `wait and retry; the kubelet retries with back-off (up to 5 minutes)`}], notes};
    case `platform-missing`:
      return {id: `platform-missing`, cause: `${input.image} offers no image for the node's platform (the runtime's "no match for platform in manifest"): ${result.detail}`, fix: [{instruction: `push ${input.image} as an index that includes the node's platform, or schedule the pod on nodes of a platform it offers (nodeSelector kubernetes.io/arch)`}], notes};
    case `serviceaccount-missing`:
      return {
        id: `custom-serviceaccount-missing-secret`,
        cause: result.detail,
        // A new ServiceAccount has no pull secrets: give it one that matches, when the namespace holds one.
        fix: input.matchingHere[0]
          ? useSecretFix({...input, pullSecretsFrom: `none`, serviceAccountExists: false}, input.matchingHere[0].name)
          : [{command: kubectl(`create`, `serviceaccount`, input.serviceAccount, `-n`, ns)}, ...recreateFix(input)],
        notes,
      };
    case `ok`:
    case `ok-anonymous`:
      return diagnosePullsNow(input, notes);
  }
}

function diagnoseUnreadable(input: DoctorCase, notes: string[]): Diagnosis {
  return {
    id: `evidence-unreadable`,
    cause: `${input.unreadable.join(`; `)}: the cause cannot be determined without them (the registry check with what could be read gave ${input.result.status}: ${input.result.detail})`,
    fix: [{instruction: `ask a cluster admin for get on secrets and serviceaccounts in namespace ${input.namespace} (the pullsecret-doctor Role of docs/rbac.md), then run doctor again`}],
    notes,
  };
}

/** ` (not searched: …)` when some secrets could not be listed, so that an absence of matches is not claimed. */
function unsearched(input: DoctorCase): string {
  return input.unsearched.length === 0 ? `` : ` (not searched: ${input.unsearched.join(`; `)})`;
}

function diagnosePullsNow(input: DoctorCase, notes: string[]): Diagnosis {
  const podList = new Set(input.podPullSecrets);
  const lacking = input.pullSecretsFrom === `own` ? [] : (input.serviceAccountSecrets ?? []).filter(name => !podList.has(name));
  if (lacking.length > 0) {
    return {
      id: `pod-predates-serviceaccount-change`,
      cause: `the image pulls now, but this pod was created before serviceaccount ${input.namespace}/${input.serviceAccount} got ${lacking.join(`, `)}; existing pods keep the pull secrets they were created with`,
      fix: recreateFix(input),
      notes,
    };
  }
  return {
    id: `pulls-now`,
    cause: `the image pulls now with this pod's pull secrets (${input.result.detail}); the failure was transient or has been fixed, and the kubelet retries with back-off (up to 5 minutes)`,
    fix: retryFix(input),
    notes,
  };
}

function diagnoseMissingSecret(input: DoctorCase, notes: string[]): Diagnosis {
  const ns = input.namespace;
  const missing = input.podPullSecrets.find(name => input.result.detail.includes(`${ns}/${name}`)) ?? input.podPullSecrets[0] ?? `regcred`;
  const sameName = input.missingFoundElsewhere.find(found => found.name === missing) ?? input.missingFoundElsewhere[0];
  if (sameName) {
    // A copy under the very name the pod lists heals it whatever its list came from.
    return {
      id: `secret-in-other-namespace`,
      cause: `secret ${sameName.name} does not exist in namespace ${ns} but exists in namespace ${sameName.namespace}; a pod can only use pull secrets of its own namespace`,
      fix: [{command: pullsecret(`sync`, sameName.name, `--from-namespace`, sameName.namespace, `-n`, ns)}, ...retryFix(input)],
      notes,
    };
  }
  const here = input.matchingHere[0];
  if (here) {
    return {
      id: `secret-not-found`,
      cause: `the pod lists secret ${missing}, which does not exist in namespace ${ns}; secret ${here.name} in the same namespace holds credentials for ${input.registryHost}`,
      fix: useSecretFix(input, here.name),
      notes,
    };
  }
  const candidate = input.matchingElsewhere[0];
  if (candidate) {
    return {
      id: `secret-in-other-namespace`,
      cause: `the pod lists secret ${missing}, which does not exist in namespace ${ns}, and no secret of namespace ${ns} holds credentials for ${input.registryHost}; secret ${candidate.name} in namespace ${candidate.namespace} does`,
      fix: [{command: pullsecret(`sync`, candidate.name, `--from-namespace`, candidate.namespace, `-n`, ns)}, ...useSecretFix(input, candidate.name)],
      notes,
    };
  }
  return {
    id: `secret-not-found`,
    cause: `the pod references secret ${missing}, which does not exist in namespace ${ns} (event FailedToRetrieveImagePullSecret), and nothing ${input.unsearched.length === 0 ? `else` : `else it could read`} grants access to ${input.registryHost}${unsearched(input)}`,
    fix: [{command: pullsecret(`add`, missing, `-n`, ns, `--docker-server`, input.suggestedKey, `--docker-username`, USERNAME, `--docker-password-stdin`)}, ...retryFix(input)],
    notes,
  };
}

function diagnoseNoCredentials(input: DoctorCase, notes: string[]): Diagnosis {
  const ns = input.namespace;
  const sa = input.serviceAccount;
  const here = input.matchingHere[0];
  const elsewhere = input.matchingElsewhere[0];

  if (input.podPullSecrets.length > 0 && input.rejectedKeys.length > 0) {
    const keys = input.rejectedKeys.map(rejected => `${rejected.key} in ${rejected.source} (${rejected.reason})`).join(`; `);
    const target = secretName(input.rejectedKeys[0]!.source);
    return {
      id: `server-key-mismatch`,
      cause: `no key of the pod's pull secrets matches ${input.image} ("no basic auth credentials"): the server key must match the image's registry exactly; the key that would match is ${input.suggestedKey}`,
      // Adding the matching key to a secret the pod already lists heals it whatever its list came from.
      fix: here
        ? useSecretFix(input, here.name)
        : [{command: pullsecret(`add`, target, `-n`, ns, `--docker-server`, input.suggestedKey, `--docker-username`, USERNAME, `--docker-password-stdin`), why: `adds the key that matches, keeping the others`}, ...retryFix(input)],
      notes: [...notes, `keys that did not match: ${keys}`],
    };
  }

  if (input.podPullSecrets.length === 0) {
    const saHas = here !== undefined && (input.serviceAccountSecrets ?? []).includes(here.name);
    if (saHas && here) {
      return {
        id: `pod-predates-serviceaccount-change`,
        cause: `serviceaccount ${ns}/${sa} now lists ${here.name}, but this pod was created before that change; existing pods keep the pull secrets they were created with`,
        fix: recreateFix(input),
        notes,
      };
    }
    const defaultHas = sa !== `default` && here !== undefined && (input.defaultServiceAccountSecrets ?? []).includes(here.name);
    if (defaultHas && here) {
      return {
        id: `custom-serviceaccount-missing-secret`,
        cause: `the pod runs as serviceaccount ${sa}, which lacks the pull secret ${here.name} that the default serviceaccount has; pull secrets come from the pod's own ServiceAccount only`,
        fix: useSecretFix(input, here.name),
        notes,
      };
    }
    if (here) {
      return {
        id: `missing-pull-secrets`,
        cause: `the pod has no imagePullSecrets and ${input.image} is private; secret ${here.name} in namespace ${ns} holds credentials for ${input.registryHost}`,
        fix: useSecretFix(input, here.name),
        notes,
      };
    }
    if (elsewhere) {
      return {
        id: `secret-in-other-namespace`,
        cause: `the pod has no imagePullSecrets and ${input.image} is private; no secret of namespace ${ns} holds credentials for ${input.registryHost}, secret ${elsewhere.name} in namespace ${elsewhere.namespace} does`,
        fix: [{command: pullsecret(`sync`, elsewhere.name, `--from-namespace`, elsewhere.namespace, `-n`, ns)}, ...useSecretFix(input, elsewhere.name)],
        notes,
      };
    }
    return {
      id: `missing-pull-secrets`,
      cause: `the pod has no imagePullSecrets and ${input.image} is private; no secret ${input.unsearched.length === 0 ? `in the cluster` : `it could read`} holds credentials for ${input.registryHost}${unsearched(input)}`,
      fix: [{command: pullsecret(`add`, `regcred`, `-n`, ns, `--docker-server`, input.suggestedKey, `--docker-username`, USERNAME, `--docker-password-stdin`)}, ...useSecretFix(input, `regcred`)],
      notes,
    };
  }

  // The pod has secrets, none with a key for this registry.
  if (here) {
    return {
      id: `missing-pull-secrets`,
      cause: `none of the pod's pull secrets (${input.podPullSecrets.join(`, `)}) has credentials for ${input.registryHost}; secret ${here.name} in namespace ${ns} has`,
      fix: useSecretFix(input, here.name),
      notes,
    };
  }
  if (elsewhere) {
    return {
      id: `secret-in-other-namespace`,
      cause: `none of the pod's pull secrets has credentials for ${input.registryHost}, nor any other secret of namespace ${ns}; secret ${elsewhere.name} in namespace ${elsewhere.namespace} has`,
      fix: [{command: pullsecret(`sync`, elsewhere.name, `--from-namespace`, elsewhere.namespace, `-n`, ns)}, ...useSecretFix(input, elsewhere.name)],
      notes,
    };
  }
  const first = input.podPullSecrets[0]!;
  return {
    id: `missing-pull-secrets`,
    cause: `none of the pod's pull secrets (${input.podPullSecrets.join(`, `)}) has credentials for ${input.registryHost}, and ${input.image} is private${unsearched(input)}`,
    fix: [{command: pullsecret(`add`, first, `-n`, ns, `--docker-server`, input.suggestedKey, `--docker-username`, USERNAME, `--docker-password-stdin`), why: `adds the registry, keeping the others`}, ...retryFix(input)],
    notes,
  };
}

/**
 * Makes the pod's future replacements use `secret` (which exists in the pod's namespace, or will after the steps
 * before): a pod whose list is its own gets it through its workload's template (which rolls its pods, or for a bare
 * pod its manifest); any other pod through its ServiceAccount, then a re-creation, since existing pods keep the list
 * they were admitted with.
 */
function useSecretFix(input: DoctorCase, secret: string): FixStep[] {
  const ns = input.namespace;
  if (input.pullSecretsFrom !== `own`) {
    const create: FixStep[] = input.serviceAccountExists === false ? [{command: kubectl(`create`, `serviceaccount`, input.serviceAccount, `-n`, ns)}] : [];
    return [...create, {command: pullsecret(`attach`, secret, `-n`, ns, `--service-account`, input.serviceAccount)}, ...recreateFix(input)];
  }
  const owner = input.owner;
  if (owner === undefined || !isWorkloadKind(owner.kind) || !WORKLOADS[owner.kind].attachable)
    return [{instruction: `add ${secret} to the imagePullSecrets of ${owner === undefined ? `pod ${input.pod}'s manifest` : `${owner.kind.toLowerCase()}/${owner.name}'s manifest`} (the pod lists its own, so its ServiceAccount's never reach it) and re-create the pod`}];
  const ref = `${owner.kind.toLowerCase()}/${owner.name}`;
  const step: FixStep = {command: pullsecret(`attach`, secret, `-n`, ns, `--workload`, ref), why: `the pod lists its own imagePullSecrets, so its ServiceAccount's never reach it`};
  // A changed template rolls the pods of a Deployment, StatefulSet or DaemonSet; a CronJob's next Job gets it.
  if (WORKLOADS[owner.kind].rolls || owner.kind === `CronJob`)
    return [step];
  return [step, ...recreateFix(input)];
}

/** Replaces the pod so that it is admitted again (with its ServiceAccount's current pull secrets). */
function recreateFix(input: DoctorCase): FixStep[] {
  const owner = input.owner;
  if (owner && isWorkloadKind(owner.kind) && WORKLOADS[owner.kind].rolls)
    return [{command: kubectl(`rollout`, `restart`, `${owner.kind.toLowerCase()}/${owner.name}`, `-n`, input.namespace)}];
  if (owner)
    return [{command: kubectl(`delete`, `pod`, input.pod, `-n`, input.namespace), why: `${owner.kind.toLowerCase()}/${owner.name} creates a new one`}];
  return [{instruction: `re-create pod ${input.pod} from its manifest (kubectl delete pod ${input.pod} -n ${input.namespace}, then apply the manifest again); a bare pod is not replaced by anyone`}];
}

/** After the pod's own secrets were fixed: the kubelet retries with back-off; a re-creation retries at once. */
function retryFix(input: DoctorCase): FixStep[] {
  const steps = recreateFix(input);
  const [first] = steps;
  return first !== undefined && `command` in first ? [{command: first.command, why: `to retry at once; the kubelet retries by itself with back-off (up to 5 minutes)`}] : steps;
}

/** `kubectl set image` on the pod's workload (or the pod: a container's image may change in place). */
function setImageFix(input: DoctorCase, what: string): FixStep[] {
  const owner = input.owner;
  if (owner !== undefined && (!isWorkloadKind(owner.kind) || owner.kind === `Job` || owner.kind === `ReplicationController`))
    return [{instruction: `change the image of container ${input.container} to ${what} in ${owner.kind.toLowerCase()}/${owner.name}'s manifest and re-create it`}];
  const ref = owner === undefined ? `pod/${input.pod}` : `${owner.kind.toLowerCase()}/${owner.name}`;
  return [{command: kubectl(`set`, `image`, ref, {prefix: `${input.container}=`, variable: `IMAGE`}, `-n`, input.namespace), why: `with IMAGE set to ${what}`}];
}

/** `regcred` from `web/regcred`. */
function secretName(source: string | undefined): string {
  if (!source)
    return `SECRET`;
  const slash = source.indexOf(`/`);
  return slash === -1 ? source : source.slice(slash + 1);
}

function brokenSecretName(detail: string): string | undefined {
  const match = /secret [^/\s]+\/(\S+) cannot be decoded/.exec(detail);
  return match?.[1];
}

function neverPullFix(input: DoctorCase): FixStep[] {
  const owner = input.owner;
  if (owner === undefined || !isWorkloadKind(owner.kind) || !WORKLOADS[owner.kind].attachable)
    return [{instruction: `set imagePullPolicy: IfNotPresent for container ${input.container} in the ${owner === undefined ? `pod` : `${owner.kind.toLowerCase()}/${owner.name}`}'s manifest and re-create the pod (or pre-load the image on every node)`}];
  const container = JSON.stringify({name: input.container, imagePullPolicy: `IfNotPresent`});
  const patch = owner.kind === `CronJob`
    ? `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[${container}]}}}}}}`
    : `{"spec":{"template":{"spec":{"containers":[${container}]}}}}`;
  return [{command: kubectl(`patch`, `${owner.kind.toLowerCase()}/${owner.name}`, `-n`, input.namespace, `-p`, patch), why: `or pre-load the image on every node`}];
}

/** The fix as printed, one line per step: commands quoted for the shell (see core/shell.ts), instructions as they are. */
export function fixLines(fix: FixStep[]): string[] {
  return fix.map(step => (`command` in step ? renderCommand(step.command, step.why) : step.instruction));
}

/** The server key `add --docker-server` should use for an image: the Hub default for Docker Hub, else the host. */
export function suggestedServerKey(domain: string): string {
  return domain === `docker.io` ? `https://index.docker.io/v1/` : domain;
}

/** Renders diagnoses for humans. */
export function formatDiagnosis(input: Pick<DoctorCase, `namespace` | `pod` | `container` | `image` | `waitingReason`>, diagnosis: Diagnosis): string {
  // Cluster text (names, images, event messages quoted in causes and notes) never reaches the terminal raw.
  const lines = [
    `pod ${input.namespace}/${input.pod}, container ${input.container}: ${input.waitingReason} for ${input.image}`,
    `  cause: ${diagnosis.cause}`,
    `  fix:`,
    ...fixLines(diagnosis.fix).map(line => `    ${line}`),
    ...diagnosis.notes.map(note => `  note: ${note}`),
  ].map(line => escapeControl(line));
  return `${lines.join(`\n`)}\n`;
}
