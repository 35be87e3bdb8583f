/**
 * Kubeconfig resolution exactly like kubectl (client-go `clientcmd`): which files are read, how
 * several files merge, which context/cluster/user is chosen, how relative paths resolve, and which
 * namespace applies. Pure file reading and YAML parsing; client-node is not involved here, so that
 * resolution errors never depend on it and cost nothing when no session is opened.
 */
import fs from 'node:fs';
import {INPUT_CAPS, readBoundedFileSync} from '../local/files.ts';
import path from 'node:path';
import {X509Certificate} from 'node:crypto';
import {LineCounter, parseDocument} from 'yaml';
import {PullSecretError} from '../../core/errors.ts';
import {readBlockYaml} from './blockYaml.ts';

/** Where to look for kubeconfig files and which context/namespace the flags ask for. */
export type KubeconfigRequest = {
  /** `--kubeconfig`: an explicit file that must exist. */
  explicitPath?: string;
  /** The `KUBECONFIG` variable (a `:`-separated list). */
  kubeconfigEnv?: string;
  /** For `~/.kube/config`. */
  homedir?: string;
  /** For relative `--kubeconfig` and `KUBECONFIG` entries. */
  cwd?: string;
  /** `--context`. */
  context?: string;
  /** `-n/--namespace`. */
  namespace?: string;
};

type Entry = {origin: string; value: Record<string, unknown>};

/** The merged view of one or more kubeconfig files, as `kubectl config view --merge` sees them. */
export type MergedKubeconfig = {
  /** The files that were read, in precedence order. */
  files: string[];
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext?: string;
  preferences: Record<string, unknown>;
};

/** A cluster entry with paths made absolute. */
export type ResolvedCluster = {
  name: string;
  server: string;
  /** PEM bytes of the CA bundle (from `certificate-authority-data` or the `certificate-authority` file). */
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  /** The file that defined the cluster. */
  origin: string;
};

/** A user entry with paths made absolute (relative to the file that defined it, as kubectl does). */
export type ResolvedUser = {
  name: string;
  /** The raw `user:` mapping with `client-certificate`, `client-key`, `token-file` and a path-like `exec.command` made absolute. */
  user: Record<string, unknown>;
  origin: string;
};

/** Everything a session needs to know about the chosen context. */
export type ResolvedContext = {
  contextName: string;
  namespace: string;
  namespaceExplicit: boolean;
  cluster: ResolvedCluster;
  user: ResolvedUser;
  /** The file(s) read, for messages. */
  files: string[];
};

/** The kubeconfig files kubectl would read, in precedence order; throws when there is none. */
export function kubeconfigFiles(request: KubeconfigRequest): string[] {
  const cwd = request.cwd ?? `/`;
  if (request.explicitPath !== undefined && request.explicitPath !== ``) {
    const file = path.resolve(cwd, request.explicitPath);
    if (!isFile(file))
      throw new PullSecretError(`kubeconfig ${file} (from --kubeconfig) does not exist or is not a file`);
    return [file];
  }
  if (request.kubeconfigEnv !== undefined && request.kubeconfigEnv !== ``) {
    // clientcmd: entries are split on the OS path-list separator, empty entries and duplicates
    // dropped, and files that do not exist are ignored; there is no fallback to ~/.kube/config.
    const listed = [...new Set(request.kubeconfigEnv.split(path.delimiter).filter(item => item !== ``).map(item => path.resolve(cwd, item)))];
    const present = listed.filter(isFile);
    if (present.length === 0)
      throw new PullSecretError(`no kubeconfig found: none of the files in KUBECONFIG exist (${listed.join(path.delimiter)}); fix KUBECONFIG or pass --kubeconfig`);
    return present;
  }
  if (request.homedir !== undefined && request.homedir !== ``) {
    const file = path.join(request.homedir, `.kube`, `config`);
    if (isFile(file))
      return [file];
  }
  throw new PullSecretError(`no kubeconfig found: set --kubeconfig or KUBECONFIG, or create ~/.kube/config`);
}

/** Reads and merges kubeconfig files like clientcmd: for clusters, users and contexts the first file defining a name wins; so do `current-context` and each preference. */
export function mergeKubeconfigs(files: string[]): MergedKubeconfig {
  const merged: MergedKubeconfig = {files, clusters: new Map(), users: new Map(), contexts: new Map(), preferences: {}};
  for (const file of files) {
    const config = readKubeconfigFile(file);
    for (const [kind, map] of [[`clusters`, merged.clusters], [`users`, merged.users], [`contexts`, merged.contexts]] as const) {
      for (const [name, value] of namedEntries(config, kind, file)) {
        if (!map.has(name))
          map.set(name, {origin: file, value});
      }
    }
    const current = config[`current-context`];
    if (merged.currentContext === undefined && typeof current === `string` && current !== ``)
      merged.currentContext = current;
    const preferences = config.preferences;
    if (isRecord(preferences)) {
      for (const [key, value] of Object.entries(preferences)) {
        if (!(key in merged.preferences) && value !== undefined && value !== null && value !== `` && value !== false)
          merged.preferences[key] = value;
      }
    }
  }
  return merged;
}

/** Resolves the flags and files to one context, cluster and user, with one-line errors naming the file and what to do. */
export function resolveKubeconfig(request: KubeconfigRequest): ResolvedContext {
  const files = kubeconfigFiles(request);
  const merged = mergeKubeconfigs(files);
  const where = files.join(path.delimiter);
  if (merged.clusters.size === 0 && merged.contexts.size === 0 && merged.users.size === 0 && merged.currentContext === undefined)
    throw new PullSecretError(`kubeconfig ${where} is empty: it defines no context; point --kubeconfig or KUBECONFIG at a kubeconfig with a context`);

  let contextName: string;
  if (request.context !== undefined && request.context !== ``) {
    contextName = request.context;
    if (!merged.contexts.has(contextName))
      throw new PullSecretError(`context "${contextName}" not found in kubeconfig (${where}); available: ${listNames(merged.contexts)}`);
  } else {
    if (merged.currentContext === undefined)
      throw new PullSecretError(`no current context is set in kubeconfig (${where}); pass --context or run "kubectl config use-context NAME"`);
    contextName = merged.currentContext;
    if (!merged.contexts.has(contextName))
      throw new PullSecretError(`current-context "${contextName}" in kubeconfig (${where}) names no context; pass --context or run "kubectl config use-context NAME" (available: ${listNames(merged.contexts)})`);
  }
  const contextEntry = merged.contexts.get(contextName)!;
  const context = contextEntry.value;
  const clusterName = stringField(context, `cluster`);
  if (clusterName === undefined || clusterName === ``)
    throw new PullSecretError(`context "${contextName}" in ${contextEntry.origin} names no cluster; fix the kubeconfig`);
  const clusterEntry = merged.clusters.get(clusterName);
  if (!clusterEntry)
    throw new PullSecretError(`cluster "${clusterName}" of context "${contextName}" not found in kubeconfig (${where}); fix the context or add the cluster`);
  const userName = stringField(context, `user`) ?? ``;
  // clientcmd accepts a context without a user (anonymous), but not one naming a missing user.
  const userEntry: Entry = userName === `` ? {origin: contextEntry.origin, value: {}} : merged.users.get(userName) ?? missingUser(userName, contextName, where);

  const flagNamespace = request.namespace !== undefined && request.namespace !== `` ? request.namespace : undefined;
  const contextNamespace = stringField(context, `namespace`);
  return {
    contextName,
    namespace: flagNamespace ?? (contextNamespace !== undefined && contextNamespace !== `` ? contextNamespace : `default`),
    namespaceExplicit: flagNamespace !== undefined,
    cluster: resolveCluster(clusterName, clusterEntry),
    user: resolveUser(userName, userEntry),
    files,
  };
}

function missingUser(userName: string, contextName: string, where: string): never {
  throw new PullSecretError(`user "${userName}" of context "${contextName}" not found in kubeconfig (${where}); fix the context or add the user`);
}

function resolveCluster(name: string, entry: Entry): ResolvedCluster {
  const cluster = entry.value;
  const base = path.dirname(entry.origin);
  const server = stringField(cluster, `server`);
  if (server === undefined || server.trim() === ``)
    throw new PullSecretError(`cluster "${name}" in ${entry.origin} has no server URL; add clusters[].cluster.server to the kubeconfig`);
  let url: URL;
  try {
    url = new URL(server.trim());
  } catch {
    throw new PullSecretError(`cluster "${name}" in ${entry.origin} has an invalid server URL "${server}"; expected https://host:port`);
  }
  if (url.protocol !== `https:` && url.protocol !== `http:`)
    throw new PullSecretError(`cluster "${name}" in ${entry.origin} has an unsupported server URL scheme "${url.protocol}"; expected https:// or http://`);

  let ca: Buffer | undefined;
  const caFile = stringField(cluster, `certificate-authority`);
  const caData = stringField(cluster, `certificate-authority-data`);
  // client-go (dataFromSliceOrFile): inline data takes precedence over the file when both are set.
  if (caData !== undefined && caData !== ``) {
    ca = decodeBase64(caData, `certificate-authority-data of cluster "${name}" in ${entry.origin}`);
    checkCertificates(ca, `certificate-authority-data of cluster "${name}" in ${entry.origin}`);
  } else if (caFile !== undefined && caFile !== ``) {
    const file = path.resolve(base, caFile);
    ca = readReferencedFile(file, `certificate-authority of cluster "${name}" (${entry.origin})`);
    checkCertificates(ca, `certificate-authority ${file} of cluster "${name}" (${entry.origin})`);
  }
  const insecure = cluster[`insecure-skip-tls-verify`] === true;
  if (insecure && ca !== undefined)
    throw new PullSecretError(`cluster "${name}" in ${entry.origin} sets both insecure-skip-tls-verify and a certificate authority; kubectl rejects this too, remove one of them`);
  const proxyUrl = stringField(cluster, `proxy-url`);
  if (proxyUrl !== undefined && proxyUrl !== ``) {
    let proxy: URL;
    try {
      proxy = new URL(proxyUrl);
    } catch {
      throw new PullSecretError(`cluster "${name}" in ${entry.origin} has an invalid proxy-url; expected http://host:port`);
    }
    if (proxy.protocol !== `http:` && proxy.protocol !== `https:`)
      throw new PullSecretError(`cluster "${name}" in ${entry.origin} uses a ${proxy.protocol.replace(/:$/, ``)} proxy-url, which kubectl-pullsecret does not support; use an http:// or https:// proxy`);
  }
  return {
    name,
    server: url.href.replace(/\/+$/, ``),
    ca,
    insecureSkipTlsVerify: insecure,
    tlsServerName: nonEmpty(stringField(cluster, `tls-server-name`)),
    proxyUrl: nonEmpty(proxyUrl),
    origin: entry.origin,
  };
}

function resolveUser(name: string, entry: Entry): ResolvedUser {
  const base = path.dirname(entry.origin);
  const user: Record<string, unknown> = {...entry.value};
  // clientcmd.ResolveLocalPaths: these paths are relative to the file that defined the user.
  for (const key of [`client-certificate`, `client-key`, `token-file`]) {
    const value = stringField(user, key);
    if (value !== undefined && value !== ``)
      user[key] = path.resolve(base, value);
  }
  const exec = user.exec;
  if (isRecord(exec)) {
    const command = stringField(exec, `command`);
    // Only a command containing a path separator is resolved; a bare name is looked up on PATH.
    if (command !== undefined && command.includes(path.sep))
      user.exec = {...exec, command: path.resolve(base, command)};
  }
  return {name, user, origin: entry.origin};
}

/** Reads one kubeconfig file into its top-level mapping, with one-line errors that never quote the file's content. */
export function readKubeconfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readBoundedFileSync(file, INPUT_CAPS.kubeconfig, `kubeconfig ${file}`).toString(`utf8`);
  } catch (error) {
    if (error instanceof PullSecretError)
      throw error;
    throw new PullSecretError(`cannot read kubeconfig ${file}: ${describeFsError(error)}`, {cause: error});
  }
  return parseKubeconfig(text, file);
}

/** Parses the text of a kubeconfig file (named `file` in errors) into its top-level mapping. */
export function parseKubeconfig(text: string, file: string): Record<string, unknown> {
  if (text.trim() === ``)
    return {};
  // The common block-style kubeconfig without the full YAML parser; anything else goes through it.
  const common = readBlockYaml(text);
  if (common !== undefined)
    return common;
  // Error messages carry only positions: yaml's own messages quote the offending line, which may hold a token.
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {prettyErrors: false, uniqueKeys: false, lineCounter});
  const [firstError] = document.errors;
  if (firstError) {
    const at = lineCounter.linePos(firstError.pos[0]);
    throw new PullSecretError(`kubeconfig ${file} is not valid YAML (line ${at.line}, column ${at.col}); fix or replace the file`);
  }
  let value: unknown;
  try {
    value = document.toJS();
  } catch (error) {
    // An alias bomb (or an alias without its anchor): yaml's message names neither the file nor a line.
    throw new PullSecretError(`kubeconfig ${file} is not valid YAML (${error instanceof Error ? error.message.split(`\n`)[0] : String(error)}); fix or replace the file`, {cause: error});
  }
  if (value === null || value === undefined)
    return {};
  if (!isRecord(value))
    throw new PullSecretError(`kubeconfig ${file} is not a kubeconfig: expected a mapping with clusters, users and contexts`);
  return value;
}

function namedEntries(config: Record<string, unknown>, kind: `clusters` | `users` | `contexts`, file: string): Array<[string, Record<string, unknown>]> {
  const list = config[kind];
  if (list === undefined || list === null)
    return [];
  if (!Array.isArray(list))
    throw new PullSecretError(`kubeconfig ${file} is not a kubeconfig: "${kind}" must be a list`);
  const inner = kind === `clusters` ? `cluster` : kind === `users` ? `user` : `context`;
  const seen = new Set<string>();
  const entries: Array<[string, Record<string, unknown>]> = [];
  for (const [index, item] of list.entries()) {
    if (!isRecord(item))
      throw new PullSecretError(`kubeconfig ${file} is not a kubeconfig: ${kind}[${index}] must be a mapping`);
    const name = typeof item.name === `string` ? item.name : ``;
    if (seen.has(name))
      throw new PullSecretError(`kubeconfig ${file} defines ${inner} "${name}" twice; remove one of them`);
    seen.add(name);
    const value = item[inner];
    if (value !== undefined && value !== null && !isRecord(value))
      throw new PullSecretError(`kubeconfig ${file} is not a kubeconfig: ${kind}[${index}].${inner} must be a mapping`);
    entries.push([name, isRecord(value) ? value : {}]);
  }
  return entries;
}

function readReferencedFile(file: string, what: string): Buffer {
  try {
    return readBoundedFileSync(file, INPUT_CAPS.pem, `${what} ${file}`);
  } catch (error) {
    if (error instanceof PullSecretError)
      throw error;
    throw new PullSecretError(`cannot read ${what}: ${file}: ${describeFsError(error)}`, {cause: error});
  }
}

/** Checks that a CA bundle holds at least one parsable PEM certificate (kubectl fails the same way, before any request). */
function checkCertificates(pem: Buffer, what: string): void {
  const blocks = pem.toString(`latin1`).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new PullSecretError(`${what} holds no PEM certificate; fix the kubeconfig (it must be a base64-encoded PEM CA bundle)`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new PullSecretError(`${what} holds a certificate that cannot be parsed; fix the kubeconfig`);
    }
  }
}

function decodeBase64(data: string, what: string): Buffer {
  const compact = data.replace(/\s+/g, ``);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1)
    throw new PullSecretError(`${what} is not valid base64; fix the kubeconfig`);
  return Buffer.from(compact, `base64`);
}

/** A short reason for a failed file operation. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case `ENOENT`: return `no such file`;
    case `EACCES`: case `EPERM`: return `permission denied`;
    case `EISDIR`: return `is a directory`;
    default: return code ?? (error instanceof Error ? error.message : String(error));
  }
}

function listNames(map: Map<string, Entry>): string {
  return map.size === 0 ? `none` : [...map.keys()].map(name => `"${name}"`).join(`, `);
}

/** A file kubectl can read: anything but a directory (a FIFO or `/dev/fd/N` from `--kubeconfig <(…)` too; reads are capped). */
function isFile(file: string): boolean {
  try {
    return !fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === `string` ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === `` ? undefined : value;
}

/** True for a plain (non-array) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === `object` && value !== null && !Array.isArray(value);
}
