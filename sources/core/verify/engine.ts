/**
 * The verify engine: resolve (pure) → prove (through the RegistryProbe port) → judge (pure).
 *
 * - Resolve: effective pull secrets per subject (effective.ts), each secret parsed as the kubelet does
 *   (`parsePullSecret`), merged into one keyring in list order (`buildKeyring`), candidates per image in the
 *   kubelet's order (`lookupCredentials`, the function `explain` prints).
 * - Prove: for each image, the candidates in order, stopping at the first success (all of them with
 *   `allCredentials`); each (image, credential) pair is checked once per run, at most `concurrency` at a time.
 *   ECR tokens whose embedded expiry is past are judged `expired` without a request.
 * - Judge: judge.ts.
 */
import {parsePullSecret} from '../dockerconfig/parse.ts';
import type {DockerConfigEntry} from '../dockerconfig/parse.ts';
import {parseImageReference} from '../image/reference.ts';
import {buildKeyring, lookupCredentials} from '../keyring/keyring.ts';
import {credentialHints, tokenExpiry} from '../registry/cloud.ts';
import {oneLine} from '../errors.ts';
import type {BasicCredential, KubeObject, ManifestTarget, PlatformsCheck, RegistryCheck, RegistryProbe} from '../ports.ts';
import {missingPlatforms, platformMissingDetail, podPlatforms} from './platforms.ts';
import type {PlatformNeed} from './platforms.ts';
import {effectivePullSecrets} from './effective.ts';
import type {ClusterView, EffectiveSecrets} from './effective.ts';
import {judgeImage} from './judge.ts';
import type {Attempt, Candidate, ContainerImage, PodSubject, SourceState, VerifyResult} from './types.ts';

/** A pull-secret source already parsed (a `--docker-config` file); the view returns it instead of a Secret. */
export type ParsedSource = {state: `parsed`; entries: DockerConfigEntry[]; warnings: string[]};

/** The view of the engine: a cluster view whose secrets may also be pre-parsed files. */
export type EngineView = Omit<ClusterView, `secret`> & {
  secret(namespace: string, name: string): ReturnType<ClusterView[`secret`]> | ParsedSource;
};

export type EngineOptions = {
  probe: RegistryProbe;
  /** Maximum registry checks in flight. */
  concurrency: number;
  /** Check every candidate (and the anonymous pull), not only up to the first success. */
  allCredentials: boolean;
  now: Date;
  /** The kubeconfig context name, for the `context` field of results (null without a cluster). */
  context: string | null;
  /** Called whenever a registry check completes. */
  onProgress?: (done: number, total: number) => void;
  /** The platforms pods may run on (`--platform`, else the nodes'); absent or empty: platforms are not checked. */
  platforms?: PlatformNeed;
  /**
   * Send a Docker Hub credential that the kubelet's fallback hands to another host (an image `localhost/x` or
   * `myregistry/x`) to that host from this machine (`verify --send-docker-hub-credentials`). Off by default.
   */
  sendHubFallback?: boolean;
};

/** The hosts Docker Hub credentials belong to. */
const DOCKER_HUB_HOSTS = new Set([`docker.io`, `index.docker.io`, `registry-1.docker.io`]);

export type EngineOutcome = {
  results: VerifyResult[];
  /** Unique (image, credential) registry checks sent. */
  registryChecks: number;
};

type ResolvedSource = {state: SourceState; entries: DockerConfigEntry[]};

type ImageInfo = {ok: true; target: ManifestTarget; ref: unknown; lookup: string; domain: string} | {ok: false; error: string};

type Prepared = {
  subject: PodSubject;
  effective: EffectiveSecrets;
  sources: ResolvedSource[];
  keyringKey: string;
};

/** Runs resolve → prove → judge over subjects, returning one result per container image. */
export async function runVerifyEngine(subjects: PodSubject[], view: EngineView, options: EngineOptions): Promise<EngineOutcome> {
  const resolved = new Map<string, ResolvedSource>();
  const memoView = (namespace: string, name: string): ResolvedSource => {
    const key = `${namespace}/${name}`;
    let source = resolved.get(key);
    if (!source) {
      source = resolveSource(namespace, name, view);
      resolved.set(key, source);
    }
    return source;
  };
  const prepared = foldPodsIntoTemplates(subjects.map(subject => prepare(subject, view, memoView)));
  const hints = new Map<string, string[]>();
  const hintsFor = (host: string, candidate: Candidate): string[] => {
    const key = `${host}\u0000${candidate.username}\u0000${candidate.password}`;
    let found = hints.get(key);
    if (!found) {
      found = credentialHints({host, username: candidate.username, password: candidate.password, now: options.now});
      hints.set(key, found);
    }
    return found;
  };

  // Whether a password is an expired ECR token, decoded once per (key, password), not once per image.
  const expiries = new Map<string, Date | undefined>();
  const expiryOf = (candidate: Candidate): Date | undefined => {
    const key = `${candidate.key}\u0000${candidate.password}`;
    if (!expiries.has(key))
      expiries.set(key, expiredAt(candidate, options.now));
    return expiries.get(key);
  };

  const keyrings = new Map<string, ReturnType<typeof buildKeyring>>();
  const images = new Map<string, ImageInfo>();
  const lookups = new Map<string, ReturnType<typeof lookupCredentials>>();
  const limiter = makeLimiter(Math.max(1, options.concurrency));
  // When platforms are checked, each check GETs the manifest (instead of a HEAD) and keeps what it says about them.
  const readManifest = options.platforms !== undefined && options.platforms.platforms.length > 0;
  const checks = new Map<string, Promise<RegistryCheck>>();
  const hostReady = new Map<string, Promise<void>>();
  let done = 0;

  const check = (target: ManifestTarget, credential: BasicCredential | null): Promise<RegistryCheck> => {
    const key = `${target.host}/${target.repository}@${target.reference}\u0000${credential ? `${credential.username}\u0000${credential.password}` : `\u0001anonymous`}`;
    let pending = checks.get(key);
    if (!pending) {
      // The first check of a host runs alone: it learns the host's challenge (and scheme), so that the checks after
      // it authenticate up front and each (image, credential) pair costs one manifest request.
      const run = () => limiter(() => options.probe.checkManifest(target, credential, {readManifest}));
      const gate = hostReady.get(target.host);
      const raw = gate ? gate.then(run) : run();
      if (!gate)
        hostReady.set(target.host, raw.then(() => undefined, () => undefined));
      pending = raw.catch((error: unknown): RegistryCheck => ({
        // The probe classifies network failures itself; anything thrown past it is reported, not fatal for the run.
        outcome: `unreachable`,
        detail: oneLine(error instanceof Error ? error.message : String(error)),
      })).then(result => {
        done++;
        options.onProgress?.(done, checks.size);
        return result;
      });
      checks.set(key, pending);
    }
    return pending;
  };

  // A chain is the kubelet's sequence of attempts for one image with one ordered credential list. It does not depend
  // on which secret (or namespace) a credential came from, so thousands of namespaces sharing credentials share it.
  type ChainOutcome = {checks: Array<Attempt[`check`]>; anonymous?: RegistryCheck};
  const runChain = async (target: ManifestTarget, candidates: Candidate[]): Promise<ChainOutcome> => {
    const outcomes: Array<Attempt[`check`]> = [];
    for (const candidate of candidates) {
      const expiry = expiryOf(candidate);
      if (expiry !== undefined) {
        outcomes.push({outcome: `expired`, detail: `ECR token expired at ${expiry.toISOString()}: refresh it (tokens live 12 h)`});
        continue;
      }
      // The kubelet hands a Docker Hub credential to a Hub-like name on another host (`localhost/x`): verify reports
      // that without sending it there, since any tenant who can create a workload would choose where it goes.
      if (candidate.match === `docker-hub-fallback` && !DOCKER_HUB_HOSTS.has(target.host.toLowerCase()) && options.sendHubFallback !== true) {
        const anonymous = await check(target, null);
        outcomes.push({...anonymous, detail: `${anonymous.detail}; checked without credentials: the kubelet would send the Docker Hub credential of ${candidate.source} to ${target.host}, which verify does not do from this machine (--send-docker-hub-credentials does)`});
        if (anonymous.outcome === `ok` && !options.allCredentials)
          break;
        continue;
      }
      // containerd's ParseAuth: without a username the kubelet's credential is anonymous (R1.6; identity-token-only entries).
      const result = await check(target, candidate.username === `` ? null : {username: candidate.username, password: candidate.password});
      outcomes.push(result);
      if (result.outcome === `ok` && !options.allCredentials)
        break;
    }
    const anonymous = candidates.length === 0 || options.allCredentials ? await check(target, null) : undefined;
    return {checks: outcomes, anonymous};
  };

  // Resolve every row synchronously, registering the chains it needs.
  type Row = {item: Prepared; container: ContainerImage; image: ImageInfo; candidates: Candidate[]; lookupWarnings: string[]; chainKey?: string};
  const chainInputs = new Map<string, {target: ManifestTarget; candidates: Candidate[]}>();
  const rows: Row[] = [];
  for (const item of prepared) {
    const {effective, sources} = item;
    const broken = sources.some(source => source.state.state === `invalid`);
    for (const container of item.subject.containers) {
      const image = imageInfo(container, images);
      const row: Row = {item, container, image, candidates: [], lookupWarnings: []};
      rows.push(row);
      if (effective.serviceAccountMissing !== undefined || !image.ok || broken)
        continue;
      let keyring = keyrings.get(item.keyringKey);
      if (!keyring) {
        keyring = buildKeyring(sources.filter(source => source.state.state === `ok`).map(source => ({source: source.state.label, entries: source.entries})));
        keyrings.set(item.keyringKey, keyring);
      }
      const lookupKey = `${item.keyringKey}\u0000${image.lookup}`;
      let lookup = lookups.get(lookupKey);
      if (!lookup) {
        lookup = lookupCredentials(keyring, image.ref as Parameters<typeof lookupCredentials>[1]);
        lookups.set(lookupKey, lookup);
      }
      row.candidates = lookup.credentials.map(credential => ({
        source: credential.source,
        key: credential.key,
        username: credential.username,
        password: credential.password,
        match: credential.match,
      }));
      row.lookupWarnings = [...lookup.warnings, ...row.candidates.flatMap(candidate => hintsFor(image.domain, candidate))];
      row.chainKey = `${image.target.host}/${image.target.repository}@${image.target.reference}\u0000${row.candidates.map(c => `${c.username}\u0000${c.password}`).join(`\u0002`)}`;
      if (!chainInputs.has(row.chainKey))
        chainInputs.set(row.chainKey, {target: image.target, candidates: row.candidates});
    }
  }

  const chainResults = new Map<string, ChainOutcome>();
  await Promise.all([...chainInputs].map(async ([key, input]) => {
    chainResults.set(key, await runChain(input.target, input.candidates));
  }));

  const results = rows.map(({item, container, image, candidates, lookupWarnings, chainKey}): VerifyResult => {
    const {subject, effective, sources} = item;
    const chain = chainKey === undefined ? undefined : chainResults.get(chainKey);
    const judgement = judgeImage({
      imageError: image.ok ? undefined : image.error,
      serviceAccountMissing: effective.serviceAccountMissing,
      sources: sources.map(source => source.state),
      candidates,
      attempts: chain ? chain.checks.map((result, index) => ({candidate: candidates[index]!, check: result})) : [],
      anonymous: chain?.anonymous,
      lookupWarnings,
      allCredentials: options.allCredentials,
    });
    const extra = container.pullPolicy === `Never` ? [NEVER_PULL_WARNING] : [];
    return {
      context: options.context,
      namespace: subject.namespace,
      kind: subject.kind,
      name: subject.name,
      container: container.name,
      image: container.image,
      ...judgement,
      warnings: effective.warnings.length > 0 || extra.length > 0 ? [...effective.warnings, ...judgement.warnings, ...extra] : judgement.warnings,
      ...(container.location === undefined ? {} : {source: container.location}),
    };
  });
  if (readManifest)
    await checkPlatforms(rows, results, chainResults, options.platforms!, limiter, options.probe);
  return {results, registryChecks: checks.size};
}

/**
 * Platforms: for each pullable row whose pod may run on known platforms, the platforms its image offers, read once
 * per (image, credential that pulled it): from the manifest the check read, plus one GET of the config blob for a
 * single manifest (when the check could not keep the manifest, one GET of it first).
 * A row whose image lacks a needed platform becomes `platform-missing`; one whose platforms cannot be read keeps
 * its status, with a warning.
 */
async function checkPlatforms(
  rows: Array<{item: Prepared; image: ImageInfo; candidates: Candidate[]; chainKey?: string}>,
  results: VerifyResult[],
  chains: Map<string, {checks: Array<Attempt[`check`]>; anonymous?: RegistryCheck}>,
  need: PlatformNeed,
  limiter: <T>(task: () => Promise<T>) => Promise<T>,
  probe: RegistryProbe,
): Promise<void> {
  const lookups = new Map<string, Promise<PlatformsCheck>>();
  await Promise.all(rows.map(async (row, index) => {
    const result = results[index]!;
    const needed = podPlatforms(need, row.item.subject.platformSelector);
    const chain = row.chainKey === undefined ? undefined : chains.get(row.chainKey);
    if (!row.image.ok || chain === undefined || needed.length === 0 || (result.status !== `ok` && result.status !== `ok-anonymous`))
      return;
    const winner = chain.checks.findIndex(check => check.outcome === `ok`);
    const candidate = winner >= 0 ? row.candidates[winner] : undefined;
    const credential: BasicCredential | null = candidate === undefined || candidate.username === `` ? null : {username: candidate.username, password: candidate.password};
    const proof = winner >= 0 ? chain.checks[winner] as RegistryCheck : chain.anonymous;
    const digest = proof?.digest;
    const target = {...row.image.target, ...(digest === undefined ? {} : {reference: digest})};
    const key = `${target.host}/${target.repository}@${target.reference}\u0000${credential ? `${credential.username}\u0000${credential.password}` : `\u0001anonymous`}`;
    let lookup = lookups.get(key);
    if (!lookup) {
      const known = proof?.manifest;
      lookup = known?.kind === `index`
        ? Promise.resolve({ok: true, platforms: known.platforms, index: true})
        : limiter(() => probe.platforms(target, credential, known)).catch((error: unknown): PlatformsCheck => ({ok: false, detail: oneLine(error instanceof Error ? error.message : String(error))}));
      lookups.set(key, lookup);
    }
    const offered = await lookup;
    if (!offered.ok) {
      results[index] = {...result, warnings: [...result.warnings, `the platforms of ${result.image} could not be read (${offered.detail}); they were not checked`]};
      return;
    }
    const missing = missingPlatforms(offered.platforms, needed);
    if (missing.length > 0)
      results[index] = {...result, status: `platform-missing`, detail: platformMissingDetail(result.image, offered.platforms, missing, need.origin, row.item.subject.platformSelector !== undefined)};
  }));
}

/**
 * `imagePullPolicy: Never`: the kubelet never pulls, so the image must already be on the node; and since Kubernetes
 * 1.35 (KubeletEnsureSecretPulledImages, KEP-2535, beta and on by default) a cached image that was pulled with
 * credentials is used only by a pod whose own credentials pulled it (docs/kubelet-pulls.md).
 */
export const NEVER_PULL_WARNING = `imagePullPolicy is Never: the kubelet will not pull this image, it must already be on the node; from Kubernetes 1.35 (KubeletEnsureSecretPulledImages, KEP-2535) a cached image pulled with credentials is used only by pods whose own pull secrets pulled it, else the pod fails with ErrImageNeverPull (docs/kubelet-pulls.md)`;

function prepare(subject: PodSubject, view: EngineView, resolve: (namespace: string, name: string) => ResolvedSource): Prepared {
  const effective = effectivePullSecrets(subject, view);
  const sources = effective.names.map(name => resolve(subject.namespace, name));
  return {subject, effective, sources, keyringKey: `${subject.namespace}\u0000${effective.names.join(`\u0000`)}`};
}

/** Reads one referenced pull secret as the kubelet would. */
export function resolveSource(namespace: string, name: string, view: EngineView): ResolvedSource {
  const label = subjectLabel(namespace, name);
  const found = view.secret(namespace, name);
  switch (found.state) {
    case `missing`:
      return {state: {label, state: `missing`}, entries: []};
    case `forbidden`:
      return {state: {label, state: `forbidden`, message: found.message}, entries: []};
    case `parsed`:
      return {state: {label: name, state: `ok`, warnings: found.warnings}, entries: found.entries};
    case `found`:
      return parsedSecret(label, found.secret);
  }
}

function subjectLabel(namespace: string, name: string): string {
  return namespace === `` ? name : `${namespace}/${name}`;
}

function parsedSecret(label: string, secret: KubeObject): ResolvedSource {
  const parsed = parsePullSecret(secret as Parameters<typeof parsePullSecret>[0]);
  switch (parsed.status) {
    case `ok`:
      return {state: {label, state: `ok`, warnings: parsed.warnings}, entries: parsed.entries};
    case `ignored`:
      return {state: {label, state: `ignored`, reason: parsed.reason}, entries: []};
    case `invalid`:
      return {state: {label, state: `invalid`, problems: parsed.problems}, entries: []};
  }
}

function imageInfo(container: ContainerImage, cache: Map<string, ImageInfo>): ImageInfo {
  let info = cache.get(container.image);
  if (!info) {
    if (container.image === ``) {
      info = {ok: false, error: `container ${container.name} has no image`};
    } else {
      const parsed = parseImageReference(container.image);
      info = parsed.ok
        ? {ok: true, ref: parsed.ref, lookup: parsed.ref.lookup, domain: parsed.ref.domain, target: {host: parsed.ref.dialHost, repository: parsed.ref.repository, reference: parsed.ref.reference}}
        : {ok: false, error: parsed.error};
    }
    cache.set(container.image, info);
  }
  return info;
}

/** The expiry of the token in the password (the one rule decode and list use too), when it is already past. */
function expiredAt(candidate: Candidate, now: Date): Date | undefined {
  const expiry = tokenExpiry(candidate.key, candidate.password);
  return expiry instanceof Date && expiry.getTime() <= now.getTime() ? expiry : undefined;
}

/**
 * A running pod whose effective secrets and images equal those of its owner's template adds nothing to the
 * template's row: fold it. Pods that differ (drift, an older template revision) keep their own rows.
 */
function foldPodsIntoTemplates(prepared: Prepared[]): Prepared[] {
  const templates = new Map<string, Prepared>();
  for (const item of prepared) {
    if (item.subject.origin === `template`)
      templates.set(`${item.subject.namespace}/${item.subject.kind}/${item.subject.name}`, item);
  }
  return prepared.filter(item => {
    const {subject} = item;
    if (subject.origin !== `pod` || !subject.owner)
      return true;
    const template = templates.get(`${subject.namespace}/${subject.owner.kind}/${subject.owner.name}`);
    if (!template || item.effective.warnings.length > 0)
      return true;
    return !(sameList(item.effective.names, template.effective.names)
      && template.effective.serviceAccountMissing === undefined
      && sameList(signature(subject.containers), signature(template.subject.containers)));
  });
}

function signature(containers: ContainerImage[]): string[] {
  return containers.filter(container => container.kind !== `ephemeral`).map(container => `${container.kind}/${container.name}=${container.image}`).sort();
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/** A promise limiter: at most `max` tasks run at once, the rest wait in FIFO order. */
function makeLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    active--;
    queue.shift()?.();
  };
  return <T>(task: () => Promise<T>) => new Promise<T>((resolve, reject) => {
    const start = () => {
      active++;
      task().then(resolve, reject).finally(release);
    };
    if (active < max)
      start();
    else
      queue.push(start);
  });
}
