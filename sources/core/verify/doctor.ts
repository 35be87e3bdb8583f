/**
 * doctor: from a pod failing to pull, and the verify engine's verdict on its own pull secrets, to the root cause in
 * plain words and the exact commands that fix it. Pure; covers every row of the "Common Issues" table of the seed
 * recipe (missing or wrong imagePullSecrets, wrong credentials, secret not found, secret in another namespace,
 * expired ECR token, server key not matching the image, custom ServiceAccount lacking the secret), plus image not
 * found, rate limiting, unreachable registry, TLS, invalid names and `imagePullPolicy: Never`.
 */
import type {VerifyResult} from './types.ts';

/** Waiting reasons that mean "the image could not be pulled". */
export const PULL_FAILURE_REASONS = [`ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`, `ErrImageNeverPull`] as const;

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

export type Diagnosis = {
  id: DiagnosisId;
  /** The root cause in plain words (one or two sentences, no secrets). */
  cause: string;
  /** Commands to run, in order. */
  fix: string[];
  /** Extra facts: rejected keys, the key that would match, event messages. */
  notes: string[];
};

/** A pull secret somewhere in the cluster whose keys match the failing image. */
export type MatchingSecret = {namespace: string; name: string; key: string; username: string};

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
  /** Top-level owner (Deployment, StatefulSet…), for the restart command. */
  restart: string;
  /** The owner in `kind/name` form for `kubectl set image`, or `pod/NAME`. */
  ownerRef: string;
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

const PASSWORD_PLACEHOLDER = `--docker-password-stdin`;

/** Diagnoses one failing container. */
export function diagnose(input: DoctorCase): Diagnosis {
  const {namespace: ns, result} = input;
  const notes = input.events.slice(-3).map(message => `event: ${message}`);
  const sa = input.serviceAccount;
  const restart = input.restart;

  if (input.waitingReason === `ErrImageNeverPull`) {
    return {
      id: `image-never-pull`,
      cause: `imagePullPolicy is Never and ${input.image} is not on the node (since Kubernetes 1.35 also when this pod's credentials cannot prove access to a cached private image)`,
      fix: [neverPullFix(input)],
      notes,
    };
  }

  // Without the pod's secrets or ServiceAccounts, any cause past the image name would be a guess: say what is missing.
  if (input.unreadable.length > 0 && result.status !== `invalid-image`)
    return diagnoseUnreadable(input, notes);

  switch (result.status) {
    case `invalid-image`:
      return {id: `invalid-image`, cause: `the image name ${JSON.stringify(input.image)} is invalid: ${result.detail}`, fix: [`kubectl set image ${input.ownerRef} ${input.container}=<valid image> -n ${ns}`], notes};
    case `secret-invalid`:
      return {
        id: `secret-invalid`,
        cause: `${result.detail}; one undecodable pull secret fails every pull of the pod, even images other secrets could pull`,
        fix: [`kubectl pullsecret decode ${brokenSecretName(result.detail) ?? `SECRET`} -n ${ns}  # see what is wrong`, `kubectl pullsecret add ${brokenSecretName(result.detail) ?? `SECRET`} -n ${ns} --docker-server ${input.suggestedKey} --docker-username USER ${PASSWORD_PLACEHOLDER}  # re-create it`, restart],
        notes,
      };
    case `secret-missing`:
      return diagnoseMissingSecret(input, notes);
    case `no-credentials`:
      return diagnoseNoCredentials(input, notes);
    case `unauthorized`:
    case `denied`: {
      const credential = result.credential;
      const secret = secretName(credential?.source);
      const hub = input.registryHost === `docker.io` && credential?.username.includes(`@`) === true;
      return {
        id: result.status === `unauthorized` ? `wrong-credentials` : `access-denied`,
        cause: result.status === `unauthorized`
          ? `the registry rejected the credentials of user ${credential?.username ?? `?`} from secret ${credential?.source ?? `?`} (key ${credential?.key ?? `?`}); the kubelet does not retry anonymously${hub ? `; Docker Hub needs the Docker ID as username, not the e-mail address` : ``}`
          : `the registry accepted user ${credential?.username ?? `?`} (secret ${credential?.source ?? `?`}) but denies it pull access to this repository, or the repository does not exist: ${result.detail}`,
        fix: result.status === `unauthorized`
          ? [`kubectl pullsecret rotate ${secret} -n ${ns} --docker-username ${hub ? `DOCKER_ID` : credential?.username ?? `USER`} ${PASSWORD_PLACEHOLDER}`, restart]
          : [`grant ${credential?.username ?? `the user`} pull access to the repository in the registry, or: kubectl pullsecret rotate ${secret} -n ${ns} --docker-username USER ${PASSWORD_PLACEHOLDER}`, restart],
        notes,
      };
    }
    case `expired`: {
      const secret = secretName(result.credential?.source);
      const region = /\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\./.exec(input.registryHost)?.[1] ?? `REGION`;
      return {
        id: `ecr-token-expired`,
        cause: `the ECR token in secret ${result.credential?.source ?? `?`} has expired (ECR tokens live 12 hours): ${result.detail}`,
        fix: [
          `aws ecr get-login-password --region ${region} | kubectl pullsecret rotate ${secret} -n ${ns} --docker-username AWS ${PASSWORD_PLACEHOLDER}`,
          restart,
        ],
        notes: [...notes, `for a lasting fix use the kubelet's ecr-credential-provider, or refresh the secret on a schedule (every 6–10 h)`],
      };
    }
    case `not-found`:
      return {id: `image-not-found`, cause: `${input.image} does not exist: ${result.detail}`, fix: [`kubectl set image ${input.ownerRef} ${input.container}=<existing tag> -n ${ns}  # or push the image`], notes};
    case `rate-limited`:
      return {
        id: `rate-limited`,
        cause: `the registry rate-limits pulls: ${result.detail}`,
        fix: [`kubectl pullsecret add regcred -n ${ns} --docker-server ${input.suggestedKey} --docker-username USER ${PASSWORD_PLACEHOLDER} --attach ${sa}  # authenticated pulls get a higher limit`, restart],
        notes,
      };
    case `unreachable`:
      return {id: `registry-unreachable`, cause: `the registry ${input.registryHost} cannot be reached: ${result.detail}`, fix: [`check DNS, routes, proxies and firewalls from the nodes to ${input.registryHost}`], notes};
    case `tls-error`:
      return {
        id: `registry-tls`,
        cause: `TLS with ${input.registryHost} fails: ${result.detail}`,
        fix: [`install the registry's CA on the nodes (containerd: /etc/containerd/certs.d/${input.registryHost}/hosts.toml ca = …)`, `kubectl pullsecret verify --image ${input.image} --certificate-authority CA.pem --secret ${input.podPullSecrets[0] ?? `SECRET`} -n ${ns}  # check again`],
        notes,
      };
    case `unavailable`:
      return {id: `registry-unavailable`, cause: `the registry ${input.registryHost} answers with server errors: ${result.detail}`, fix: [`wait and retry; the kubelet retries with back-off (up to 5 minutes)`], notes};
    case `platform-missing`:
      return {id: `platform-missing`, cause: `${input.image} offers no image for the node's platform (the runtime's "no match for platform in manifest"): ${result.detail}`, fix: [`push ${input.image} as an index that includes the node's platform, or schedule the pod on nodes of a platform it offers (nodeSelector kubernetes.io/arch)`], notes};
    case `serviceaccount-missing`:
      return {id: `custom-serviceaccount-missing-secret`, cause: result.detail, fix: [`kubectl create serviceaccount ${sa} -n ${ns}`], notes};
    case `ok`:
    case `ok-anonymous`:
      return diagnosePullsNow(input, notes);
  }
}

function diagnoseUnreadable(input: DoctorCase, notes: string[]): Diagnosis {
  return {
    id: `evidence-unreadable`,
    cause: `${input.unreadable.join(`; `)}: the cause cannot be determined without them (the registry check with what could be read gave ${input.result.status}: ${input.result.detail})`,
    fix: [`ask a cluster admin for get on secrets and serviceaccounts in namespace ${input.namespace} (the pullsecret-doctor Role of docs/rbac.md), then run doctor again`],
    notes,
  };
}

/** ` (not searched: …)` when some secrets could not be listed, so that an absence of matches is not claimed. */
function unsearched(input: DoctorCase): string {
  return input.unsearched.length === 0 ? `` : ` (not searched: ${input.unsearched.join(`; `)})`;
}

function diagnosePullsNow(input: DoctorCase, notes: string[]): Diagnosis {
  const podList = new Set(input.podPullSecrets);
  const lacking = (input.serviceAccountSecrets ?? []).filter(name => !podList.has(name));
  if (lacking.length > 0) {
    return {
      id: `pod-predates-serviceaccount-change`,
      cause: `the image pulls now, but this pod was created before serviceaccount ${input.namespace}/${input.serviceAccount} got ${lacking.join(`, `)}; existing pods keep the pull secrets they were created with`,
      fix: [input.restart],
      notes,
    };
  }
  return {
    id: `pulls-now`,
    cause: `the image pulls now with this pod's pull secrets (${input.result.detail}); the failure was transient or has been fixed, and the kubelet retries with back-off (up to 5 minutes)`,
    fix: [`${input.restart}  # to retry at once`],
    notes,
  };
}

function diagnoseMissingSecret(input: DoctorCase, notes: string[]): Diagnosis {
  const ns = input.namespace;
  const elsewhere = input.missingFoundElsewhere[0];
  if (elsewhere) {
    return {
      id: `secret-in-other-namespace`,
      cause: `secret ${elsewhere.name} does not exist in namespace ${ns} but exists in namespace ${elsewhere.namespace}; a pod can only use pull secrets of its own namespace`,
      fix: [`kubectl pullsecret sync ${elsewhere.name} --from-namespace ${elsewhere.namespace} -n ${ns}`, input.restart],
      notes,
    };
  }
  const candidate = input.matchingElsewhere[0];
  const missing = input.podPullSecrets.find(name => input.result.detail.includes(`${ns}/${name}`)) ?? input.podPullSecrets[0] ?? `regcred`;
  if (candidate) {
    return {
      id: `secret-in-other-namespace`,
      cause: `secret ${missing} does not exist in namespace ${ns}; secret ${candidate.name} in namespace ${candidate.namespace} holds credentials for ${input.registryHost}`,
      fix: [`kubectl pullsecret sync ${candidate.name} --from-namespace ${candidate.namespace} -n ${ns}${candidate.name === missing ? `` : ` --attach ${input.serviceAccount}`}`, input.restart],
      notes,
    };
  }
  return {
    id: `secret-not-found`,
    cause: `the pod references secret ${missing}, which does not exist in namespace ${ns} (event FailedToRetrieveImagePullSecret), and nothing ${input.unsearched.length === 0 ? `else` : `else it could read`} grants access to ${input.registryHost}${unsearched(input)}`,
    fix: [`kubectl pullsecret add ${missing} -n ${ns} --docker-server ${input.suggestedKey} --docker-username USER ${PASSWORD_PLACEHOLDER}`, input.restart],
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
      fix: here
        ? [`kubectl pullsecret attach ${here.name} -n ${ns} --service-account ${sa}`, input.restart]
        : [`kubectl pullsecret add ${target} -n ${ns} --docker-server ${input.suggestedKey} --docker-username USER ${PASSWORD_PLACEHOLDER}`, input.restart],
      notes: [...notes, `keys that did not match: ${keys}`],
    };
  }

  if (input.podPullSecrets.length === 0) {
    const defaultHas = sa !== `default` && here !== undefined && (input.defaultServiceAccountSecrets ?? []).includes(here.name);
    if (defaultHas && here) {
      return {
        id: `custom-serviceaccount-missing-secret`,
        cause: `the pod runs as serviceaccount ${sa}, which lacks the pull secret ${here.name} that the default serviceaccount has; pull secrets come from the pod's own ServiceAccount only`,
        fix: [`kubectl pullsecret attach ${here.name} -n ${ns} --service-account ${sa}`, input.restart],
        notes,
      };
    }
    const saHas = here !== undefined && (input.serviceAccountSecrets ?? []).includes(here.name);
    if (saHas && here) {
      return {
        id: `pod-predates-serviceaccount-change`,
        cause: `serviceaccount ${ns}/${sa} now lists ${here.name}, but this pod was created before that change; existing pods keep the pull secrets they were created with`,
        fix: [input.restart],
        notes,
      };
    }
    if (here) {
      return {
        id: `missing-pull-secrets`,
        cause: `the pod has no imagePullSecrets and ${input.image} is private; secret ${here.name} in namespace ${ns} holds credentials for ${input.registryHost}`,
        fix: [`kubectl pullsecret attach ${here.name} -n ${ns} --service-account ${sa}`, input.restart],
        notes,
      };
    }
    if (elsewhere) {
      return {
        id: `secret-in-other-namespace`,
        cause: `the pod has no imagePullSecrets and ${input.image} is private; secret ${elsewhere.name} for ${input.registryHost} exists only in namespace ${elsewhere.namespace}`,
        fix: [`kubectl pullsecret sync ${elsewhere.name} --from-namespace ${elsewhere.namespace} -n ${ns} --attach ${sa}`, input.restart],
        notes,
      };
    }
    return {
      id: `missing-pull-secrets`,
      cause: `the pod has no imagePullSecrets and ${input.image} is private; no secret ${input.unsearched.length === 0 ? `in the cluster` : `it could read`} holds credentials for ${input.registryHost}${unsearched(input)}`,
      fix: [`kubectl pullsecret add regcred -n ${ns} --docker-server ${input.suggestedKey} --docker-username USER ${PASSWORD_PLACEHOLDER} --attach ${sa}`, input.restart],
      notes,
    };
  }

  // The pod has secrets, none with a key for this registry.
  if (here) {
    return {
      id: `missing-pull-secrets`,
      cause: `none of the pod's pull secrets (${input.podPullSecrets.join(`, `)}) has credentials for ${input.registryHost}; secret ${here.name} in namespace ${ns} has`,
      fix: [`kubectl pullsecret attach ${here.name} -n ${ns} --service-account ${sa}`, input.restart],
      notes,
    };
  }
  if (elsewhere) {
    return {
      id: `secret-in-other-namespace`,
      cause: `none of the pod's pull secrets has credentials for ${input.registryHost}; secret ${elsewhere.name} in namespace ${elsewhere.namespace} has`,
      fix: [`kubectl pullsecret sync ${elsewhere.name} --from-namespace ${elsewhere.namespace} -n ${ns} --attach ${sa}`, input.restart],
      notes,
    };
  }
  return {
    id: `missing-pull-secrets`,
    cause: `none of the pod's pull secrets (${input.podPullSecrets.join(`, `)}) has credentials for ${input.registryHost}, and ${input.image} is private${unsearched(input)}`,
    fix: [`kubectl pullsecret add ${input.podPullSecrets[0]} -n ${ns} --docker-server ${input.suggestedKey} --docker-username USER ${PASSWORD_PLACEHOLDER}`, input.restart],
    notes,
  };
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

function neverPullFix(input: DoctorCase): string {
  if (input.ownerRef.startsWith(`pod/`))
    return `set imagePullPolicy: IfNotPresent for container ${input.container} in the pod's manifest and re-create the pod (or pre-load the image on every node)`;
  const container = JSON.stringify({name: input.container, imagePullPolicy: `IfNotPresent`});
  const patch = input.ownerRef.startsWith(`cronjob/`)
    ? `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[${container}]}}}}}}`
    : `{"spec":{"template":{"spec":{"containers":[${container}]}}}}`;
  return `kubectl patch ${input.ownerRef} -n ${input.namespace} -p '${patch}'  # or pre-load the image on every node`;
}

/** The server key `add --docker-server` should use for an image: the Hub default for Docker Hub, else the host. */
export function suggestedServerKey(domain: string): string {
  return domain === `docker.io` ? `https://index.docker.io/v1/` : domain;
}

/** Renders diagnoses for humans. */
export function formatDiagnosis(input: Pick<DoctorCase, `namespace` | `pod` | `container` | `image` | `waitingReason`>, diagnosis: Diagnosis): string {
  const lines = [
    `pod ${input.namespace}/${input.pod}, container ${input.container}: ${input.waitingReason} for ${input.image}`,
    `  cause: ${diagnosis.cause}`,
    `  fix:`,
    ...diagnosis.fix.map(command => `    ${command}`),
    ...diagnosis.notes.map(note => `  note: ${note}`),
  ];
  return `${lines.join(`\n`)}\n`;
}
