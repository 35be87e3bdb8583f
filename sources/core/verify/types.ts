/**
 * Plain-data types of the verify engine (docs/design.md "How data flows through verify").
 * Gather (adapter) → subjects; resolve (core) → credential sources per subject; prove (probe port);
 * judge (core) → one `VerifyResult` per container image; print (output adapter).
 */
import type {RegistryCheck} from '../ports.ts';

/** Stable status names of `verify` (docs/design.md vocabulary), plus `serviceaccount-missing` (pod creation would be refused). */
export type VerifyStatus =
  | `ok`
  | `ok-anonymous`
  | `no-credentials`
  | `secret-missing`
  | `secret-invalid`
  | `unauthorized`
  | `denied`
  | `not-found`
  | `rate-limited`
  | `unavailable`
  | `unreachable`
  | `tls-error`
  | `invalid-image`
  | `expired`
  | `serviceaccount-missing`
  | `platform-missing`;

/** Every status, in the order the summary lists them. */
export const VERIFY_STATUSES: readonly VerifyStatus[] = [
  `ok`, `ok-anonymous`, `no-credentials`, `secret-missing`, `secret-invalid`, `serviceaccount-missing`, `unauthorized`, `denied`,
  `expired`, `not-found`, `platform-missing`, `rate-limited`, `unavailable`, `unreachable`, `tls-error`, `invalid-image`,
];

/** Statuses under which the kubelet's pull succeeds. */
export function isPullable(status: VerifyStatus): boolean {
  return status === `ok` || status === `ok-anonymous`;
}

/** `volume` is an image volume (`spec.volumes[].image.reference`), pulled by the kubelet like a container image. */
export type ContainerKind = `container` | `init` | `ephemeral` | `volume`;

/** Where a field was read from: a manifest file (none for stdin) and the 1-based line, when known. */
export type SourceLocation = {file?: string; line?: number};

/** One container image inside a pod spec (an image volume is named `volume:NAME`). */
export type ContainerImage = {
  name: string;
  image: string;
  kind: ContainerKind;
  /** `imagePullPolicy` (`pullPolicy` of an image volume), when set. */
  pullPolicy?: string;
  /** The field path of the image inside its object (`spec.template.spec.containers[0].image` as segments), for positions. */
  path?: Array<string | number>;
  /** Where the `image:` field is, for `-f`/`-k` input. */
  location?: SourceLocation;
};

/**
 * One pod spec to check: the template of a workload, a running pod's actual spec, a workload read from a manifest,
 * or the explicit `--image` list.
 */
export type PodSubject = {
  namespace: string;
  /** `Deployment`, `Pod`, …; `Image` for `--image`. */
  kind: string;
  name: string;
  origin: `template` | `pod` | `manifest` | `images`;
  /** `spec.serviceAccountName` (or the deprecated `serviceAccount`), undefined when unset (admission uses `default`). */
  serviceAccountName?: string;
  /** `spec.imagePullSecrets[].name` in order; entries with an empty name are skipped, as the kubelet does. */
  ownPullSecrets: string[];
  containers: ContainerImage[];
  /** For running pods: the top-level workload owning it (ReplicaSet → Deployment, Job → CronJob), if known. */
  owner?: {kind: string; name: string};
  /** For running pods owned by a checked workload: whether that template sets its own imagePullSecrets. */
  ownerTemplateHasOwnSecrets?: boolean;
  /** The pod spec's `nodeSelector` values for `kubernetes.io/os` and `kubernetes.io/arch`, when set. */
  platformSelector?: {os?: string; architecture?: string};
};

/** A usable credential as the keyring returns it (the kubelet's order). Never printed with its password. */
export type Candidate = {
  source: string;
  key: string;
  username: string;
  password: string;
  match: string;
};

/** The public part of a credential, safe to print. */
export type CredentialRef = {source: string; key: string; username: string};

/** One pull secret (or docker config file) referenced by a subject, as far as it could be read. */
export type SourceState =
  | {label: string; state: `ok`; warnings: string[]}
  | {label: string; state: `ignored`; reason: string}
  | {label: string; state: `invalid`; problems: string[]}
  | {label: string; state: `missing`}
  | {label: string; state: `forbidden`; message: string};

/** One attempt with one candidate: a registry answer, or `expired` decided offline (ECR token past its expiry). */
export type Attempt = {
  candidate: Candidate;
  check: RegistryCheck | {outcome: `expired`; detail: string};
};

/** Everything the judgement needs about one container image. Plain data; produced by the engine. */
export type JudgeInput = {
  /** The reference error, when the image name is invalid (the kubelet's InvalidImageName). */
  imageError?: string;
  /** Set when the ServiceAccount the pod would use does not exist (admission refuses the pod). */
  serviceAccountMissing?: string;
  sources: SourceState[];
  /** Candidates from the keyring, in the kubelet's order. */
  candidates: Candidate[];
  /** Attempts made, in order (stops at the first success unless `allCredentials`). */
  attempts: Attempt[];
  /** The anonymous check, made when no candidate matched (and under `allCredentials`, to spot unneeded credentials). */
  anonymous?: RegistryCheck;
  /** Warnings from the keyring lookup (identity tokens, Docker Hub key variants, random order…). */
  lookupWarnings: string[];
  allCredentials: boolean;
};

/** The verdict for one container image. */
export type Judgement = {
  status: VerifyStatus;
  credential: CredentialRef | null;
  detail: string;
  warnings: string[];
};

/** One row of `verify` output (the `-o json` schema's `results[]`). */
export type VerifyResult = {
  context: string | null;
  namespace: string;
  kind: string;
  name: string;
  container: string;
  image: string;
  status: VerifyStatus;
  credential: CredentialRef | null;
  detail: string;
  warnings: string[];
  /** With `-f`/`-k`: the file (absent for stdin) and line of the image field. */
  source?: SourceLocation;
};

/** The `-o json` document. */
export type VerifyReport = {
  summary: {
    total: number;
    pullable: number;
    failing: number;
    warnings: number;
    byStatus: Partial<Record<VerifyStatus, number>>;
    registryChecks: number;
    notes: string[];
  };
  results: VerifyResult[];
};

/** What a registry attempt found, re-exported for callers that only import the verify types. */
export type {RegistryCheck};
