/**
 * The kubelet's judgement for one container image, as a pure function over plain data
 * (docs/credential-rules.md "The short version", R2.1, R2.8, R1.3, R2.2, R5.1):
 * - an invalid image name fails before any credential lookup (InvalidImageName);
 * - a pull secret that fails to decode breaks the lookup of every image of the pod (no fallback to the others);
 * - missing or unreadable secrets are skipped (event FailedToRetrieveImagePullSecret) and the pull goes on;
 * - each matching credential is one pull attempt, the first success wins, and when every attempt fails there is
 *   no anonymous retry, so a rejected credential breaks even a public image;
 * - only when no credential matched does the kubelet pull anonymously.
 */
import type {RegistryOutcome} from '../ports.ts';
import type {Attempt, Candidate, CredentialRef, JudgeInput, Judgement, SourceState, VerifyStatus} from './types.ts';

/** The public part of a candidate (never the password). */
export function credentialRef(candidate: Candidate): CredentialRef {
  return {source: candidate.source, key: candidate.key, username: candidate.username};
}

/** `web/regcred (key 127.0.0.1:5000, user alice)` */
export function describeCredential(candidate: CredentialRef): string {
  return `${candidate.source} (key ${candidate.key}, user ${candidate.username === `` ? `<empty>` : candidate.username})`;
}

/** Registry outcome → verify status. */
export function statusOfOutcome(outcome: RegistryOutcome | `expired`): VerifyStatus {
  switch (outcome) {
    case `ok`: return `ok`;
    case `invalid-reference`: return `invalid-image`;
    default: return outcome;
  }
}

// When every credential failed, the status names the most actionable failure: a missing tag means some credential
// got through; an expired token is the cause of the rejection that follows from it.
const FAILURE_RELEVANCE: ReadonlyArray<RegistryOutcome | `expired`> = [
  `invalid-reference`, `not-found`, `expired`, `denied`, `unauthorized`, `rate-limited`, `tls-error`, `unreachable`, `unavailable`,
];

/** The attempt whose failure best explains an all-failed pull. */
export function mostRelevantFailure(attempts: Attempt[]): Attempt | undefined {
  let best: Attempt | undefined;
  let bestRank = Infinity;
  for (const attempt of attempts) {
    const rank = FAILURE_RELEVANCE.indexOf(attempt.check.outcome);
    const effective = rank === -1 ? FAILURE_RELEVANCE.length : rank;
    if (effective < bestRank) {
      best = attempt;
      bestRank = effective;
    }
  }
  return best;
}

/** Warnings about the pod's pull secrets that hold whatever the image's verdict is. */
export function sourceWarnings(sources: SourceState[]): string[] {
  const warnings: string[] = [];
  for (const source of sources) {
    switch (source.state) {
      case `missing`:
        warnings.push(`secret ${source.label} not found: the kubelet skips it (event FailedToRetrieveImagePullSecret)`);
        break;
      case `forbidden`:
        warnings.push(`cannot read secret ${source.label}: ${source.message}; its credentials were not checked`);
        break;
      case `ignored`:
        warnings.push(`secret ${source.label} is ignored by the kubelet: ${source.reason}`);
        break;
      case `ok`:
        warnings.push(...source.warnings);
        break;
      case `invalid`:
        break;
    }
  }
  return warnings;
}

/** Decides the status of one container image from what the engine gathered. */
export function judgeImage(input: JudgeInput): Judgement {
  const warnings = unique([...sourceWarnings(input.sources), ...input.lookupWarnings]);
  if (input.serviceAccountMissing !== undefined) {
    return {
      status: `serviceaccount-missing`,
      credential: null,
      detail: `serviceaccount ${input.serviceAccountMissing} not found: pod creation would be refused`,
      warnings,
    };
  }
  if (input.imageError !== undefined)
    return {status: `invalid-image`, credential: null, detail: input.imageError, warnings};

  const broken = input.sources.filter(source => source.state === `invalid`);
  if (broken.length > 0) {
    const first = broken[0]!;
    return {
      status: `secret-invalid`,
      credential: null,
      detail: `secret ${first.label} cannot be decoded (${first.state === `invalid` ? first.problems[0] ?? `invalid` : `invalid`}): the kubelet fails every pull of this pod`,
      warnings,
    };
  }

  const missing = input.sources.filter(source => source.state === `missing`).map(source => source.label);

  if (input.candidates.length === 0)
    return judgeAnonymous(input, missing, warnings);

  const success = input.attempts.find(attempt => attempt.check.outcome === `ok`);
  if (input.allCredentials)
    warnings.push(...allCredentialWarnings(input, success));

  if (success) {
    const tried = input.attempts.indexOf(success);
    const detail = tried === 0
      ? `pulls with ${describeCredential(success.candidate)}`
      : `pulls with ${describeCredential(success.candidate)} after ${tried} rejected credential${tried === 1 ? `` : `s`}`;
    return {status: `ok`, credential: credentialRef(success.candidate), detail: appendDigest(detail, success), warnings: unique(warnings)};
  }

  const failure = mostRelevantFailure(input.attempts);
  if (!failure)
    throw new Error(`Assertion failed: candidates without attempts`);
  const others = input.attempts.length - 1;
  const detail = `${describeCredential(failure.candidate)}: ${failure.check.detail}`
    + (others > 0 ? ` (${others} other credential${others === 1 ? `` : `s`} failed too; no anonymous retry)` : `; the kubelet does not retry anonymously`);
  if (missing.length > 0)
    warnings.push(`the missing secret${missing.length === 1 ? `` : `s`} ${missing.join(`, `)} might hold the right credentials`);
  return {status: statusOfOutcome(failure.check.outcome), credential: credentialRef(failure.candidate), detail, warnings: unique(warnings)};
}

function judgeAnonymous(input: JudgeInput, missing: string[], warnings: string[]): Judgement {
  const anonymous = input.anonymous;
  if (!anonymous)
    throw new Error(`Assertion failed: no candidate and no anonymous check`);
  if (anonymous.outcome === `ok`)
    return {status: `ok-anonymous`, credential: null, detail: `public: no credential matched and none is needed`, warnings};
  if (anonymous.outcome === `unauthorized` || anonymous.outcome === `denied`) {
    if (missing.length > 0) {
      return {
        status: `secret-missing`,
        credential: null,
        detail: `secret ${missing.join(`, `)} not found and no other credential matches; anonymous pull refused: ${anonymous.detail}`,
        warnings,
      };
    }
    const forbidden = input.sources.some(source => source.state === `forbidden`);
    warnings.push(`node-level credentials (config.json, credential providers) are invisible to this check and could still match`);
    return {
      status: `no-credentials`,
      credential: null,
      detail: `private and no credential matches${forbidden ? ` (some secrets could not be read)` : ``}; anonymous pull refused: ${anonymous.detail}`,
      warnings: unique(warnings),
    };
  }
  return {status: statusOfOutcome(anonymous.outcome), credential: null, detail: `anonymous: ${anonymous.detail}`, warnings};
}

function allCredentialWarnings(input: JudgeInput, success: Attempt | undefined): string[] {
  const warnings: string[] = [];
  for (const attempt of input.attempts) {
    if (attempt === success || attempt.check.outcome === `ok`)
      continue;
    warnings.push(`credential ${describeCredential(attempt.candidate)} fails: ${attempt.check.detail}`);
  }
  if (input.anonymous?.outcome === `ok`)
    warnings.push(`the image is public: the matching credentials are not needed, and a rejected one would break the pull (no anonymous retry)`);
  return warnings;
}

function appendDigest(detail: string, attempt: Attempt): string {
  return `digest` in attempt.check && attempt.check.digest ? `${detail} (${attempt.check.digest})` : detail;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
