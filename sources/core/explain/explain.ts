/**
 * `explain`'s pure core: for each image, what the kubelet does with the pod's pull secrets
 * (docs/credential-rules.md R2.1–R2.8): the lookup name, the credentials it tries in order and why each
 * matched, the keys that did not match and why, whether the pull is anonymous, and warnings.
 *
 * Public API:
 * - `ExplainSource`: one entry of the pod's `imagePullSecrets` (or one `--docker-config` file), already
 *   read: `ok` (parsed entries), `missing` (the kubelet skips it with a FailedToRetrieveImagePullSecret
 *   event), `ignored` (wrong type/key pairing) or `invalid` (breaks the lookup of every image of the pod).
 * - `explainImages(images, sources)` → `ExplainReport`, the `-o json` document (`{"images":[…]}`; no
 *   passwords) plus per-row details for the human renderer; `failed` is true when an image reference is
 *   invalid or a pull secret breaks the lookup.
 * - `renderExplainText(report)` → the human text.
 */
import {entryWarnings} from '../dockerconfig/parse.ts';
import type {DockerConfigEntry} from '../dockerconfig/parse.ts';
import {parseImageReference} from '../image/reference.ts';
import {buildKeyring, lookupCredentials} from '../keyring/keyring.ts';
import type {MatchKind, RejectionReason} from '../keyring/keyring.ts';

/** One pull-secret source, in the pod's order. `source` is how it is named in the output. */
export type ExplainSource =
  | {source: string; state: `ok`; entries: DockerConfigEntry[]; warnings: string[]}
  | {source: string; state: `missing`}
  | {source: string; state: `ignored`; reason: string}
  | {source: string; state: `invalid`; problems: string[]};

/** One credential as printed: never the password. */
export type ExplainedCredential = {source: string; key: string; username: string; match: MatchKind};
export type ExplainedRejection = {source: string; key: string; reason: RejectionReason};

/** One image in the `-o json` document. */
export type ExplainedImage = {
  image: string;
  /** The repository name the keyring looks up; null when the reference is invalid. */
  lookup: string | null;
  /** Present when the reference is invalid or a pull secret breaks the kubelet's lookup. */
  error?: string;
  anonymous: boolean;
  credentials: ExplainedCredential[];
  rejected: ExplainedRejection[];
  warnings: string[];
};

/** Extra, human-only detail for one image (kept out of the JSON document). */
export type ImageDetail = {
  dial?: string;
  credentialNotes: string[];
  rejectedNotes: string[];
};

export type ExplainReport = {
  document: {images: ExplainedImage[]};
  details: ImageDetail[];
  failed: boolean;
};

/** Explains every image against the same list of pull secrets (one pod's view). */
export function explainImages(images: string[], sources: ExplainSource[]): ExplainReport {
  const sourceWarnings: string[] = [];
  const problems: string[] = [];
  for (const source of sources) {
    switch (source.state) {
      case `missing`:
        sourceWarnings.push(`pull secret ${source.source} was not found: the kubelet skips it and records the event FailedToRetrieveImagePullSecret`);
        break;
      case `ignored`:
        sourceWarnings.push(source.reason);
        break;
      case `invalid`:
        problems.push(...source.problems);
        break;
      case `ok`: {
        const perEntry = new Set(source.entries.flatMap(entry => entryWarnings(entry, ``).map(w => w.slice(2))));
        sourceWarnings.push(...source.warnings.filter(warning => ![...perEntry].some(tail => warning.endsWith(tail))));
        break;
      }
    }
  }
  const okSources = sources.filter(source => source.state === `ok`);
  const keyring = buildKeyring(okSources.map(source => ({source: source.source, entries: source.entries})));
  const entryOf = new Map(okSources.flatMap(source => source.entries.map(entry => [`${source.source}\u0000${entry.key}`, entry] as const)));
  const rows: ExplainedImage[] = [];
  const details: ImageDetail[] = [];
  let failed = false;
  for (const image of images) {
    const parsed = parseImageReference(image);
    if (!parsed.ok) {
      failed = true;
      rows.push({image, lookup: null, error: parsed.error, anonymous: false, credentials: [], rejected: [], warnings: []});
      details.push({credentialNotes: [], rejectedNotes: []});
      continue;
    }
    const {ref} = parsed;
    if (problems.length > 0) {
      failed = true;
      rows.push({
        image,
        lookup: ref.lookup,
        error: `a pull secret is invalid, so the kubelet fails the pull of every image of the pod (no anonymous attempt): ${problems.join(`; `)}`,
        anonymous: false,
        credentials: [],
        rejected: [],
        warnings: [...sourceWarnings],
      });
      details.push({dial: `${ref.dialHost}/${ref.repository}`, credentialNotes: [], rejectedNotes: []});
      continue;
    }
    const lookup = lookupCredentials(keyring, ref);
    const warnings = [...sourceWarnings, ...lookup.warnings];
    for (const credential of lookup.credentials) {
      const entry = entryOf.get(`${credential.source}\u0000${credential.key}`);
      if (entry?.authAgrees === false)
        warnings.push(`${credential.source} key ${JSON.stringify(credential.key)}: "auth" disagrees with "username"/"password"; the kubelet uses "auth" (user ${JSON.stringify(credential.username)})`);
    }
    rows.push({
      image,
      lookup: ref.lookup,
      anonymous: lookup.credentials.length === 0,
      credentials: lookup.credentials.map(({source, key, username, match}) => ({source, key, username, match})),
      rejected: lookup.rejected.map(({source, key, reason}) => ({source, key, reason})),
      warnings: [...new Set(warnings)],
    });
    details.push({
      dial: `${ref.dialHost}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.reference}`}`,
      credentialNotes: lookup.credentials.map(credential => describeMatch(credential.match, credential.normalizedKey, ref.lookup)),
      rejectedNotes: lookup.rejected.map(rejection => rejection.detail),
    });
  }
  return {document: {images: rows}, details, failed};
}

function describeMatch(match: MatchKind, normalizedKey: string, lookup: string): string {
  switch (match) {
    case `host`: return `the key normalizes to ${normalizedKey}, which matches ${lookup}`;
    case `glob`: return `the glob ${normalizedKey} matches ${lookup}`;
    case `docker-hub-fallback`: return `Docker Hub fallback: no other key matched and ${lookup} looks like a Docker Hub name`;
  }
}

/** The human rendering: one block per image. */
export function renderExplainText(report: ExplainReport): string {
  const out: string[] = [];
  report.document.images.forEach((row, i) => {
    const detail = report.details[i]!;
    if (i > 0)
      out.push(``);
    out.push(`IMAGE ${row.image}`);
    if (row.lookup !== null)
      out.push(`  lookup:   ${row.lookup}${detail.dial ? ` (pulled from ${detail.dial})` : ``}`);
    if (row.error !== undefined) {
      out.push(`  error:    ${row.error}`);
    } else if (row.anonymous) {
      out.push(`  no credential matches: pulled anonymously (unless the node's own config.json or a credential-provider plugin supplies one)`);
    } else {
      out.push(`  the kubelet tries, in this order (first success wins, no anonymous retry):`);
      row.credentials.forEach((credential, n) => {
        out.push(`    ${n + 1}. user ${JSON.stringify(credential.username)} from ${credential.source}, key ${JSON.stringify(credential.key)} [${credential.match}]`);
        out.push(`       ${detail.credentialNotes[n]}`);
      });
    }
    if (row.rejected.length > 0) {
      out.push(`  not used:`);
      row.rejected.forEach((rejection, n) => {
        out.push(`    - ${rejection.source}, key ${JSON.stringify(rejection.key)} [${rejection.reason}]: ${detail.rejectedNotes[n]}`);
      });
    }
    for (const warning of row.warnings)
      out.push(`  warning:  ${warning}`);
  });
  return `${out.join(`\n`)}\n`;
}
