/**
 * Reading pull secrets and Docker config files exactly as the kubelet does
 * (docs/credential-rules.md R1.1–R1.6; kubelet pkg/credentialprovider/config.go and secrets/secrets.go).
 *
 * Public API (used by add, decode, list, verify, doctor and explain):
 * - `parsePullSecret(secret)` → `PullSecretParse`: `ok` with the entries the kubelet will use,
 *   `ignored` (wrong type/key pairing, Opaque, empty payload: the kubelet silently skips it), or
 *   `invalid` (a JSON or field-type error: the kubelet's keyring construction fails, which breaks
 *   the pull of every image of the pod; `problems` name secret, key, entry and field).
 * - `decodeDockerConfigPayload(text, format, label)` → the same result for a raw payload
 *   (`dockerconfigjson` = `{"auths":{…}}`, `dockercfg` = the bare map).
 * - `decodeAuthField(auth)` → `{username, password}` or `{error}` (padded/unpadded base64, split at the first colon).
 * - `parseDockerConfigFile(text, source)` → `{entries, warnings, format}` for a Docker `config.json`,
 *   a legacy `.dockercfg` file, or a Secret manifest (YAML or JSON); malformed input throws
 *   `InputError` naming the file and what is wrong.
 *
 * Nothing here puts a password, an `auth` value or a token into a warning or an error.
 */
import {neverMatchingKey} from '../keyring/keyring.ts';
import {parseAllDocuments} from 'yaml';
import {InputError, oneLine} from '../errors.ts';
import {yamlProblem} from '../yamlProblem.ts';
import {DOCKERCFG_KEY as DATA_KEY_DOCKERCFG, DOCKERCFG_TYPE as SECRET_TYPE_DOCKERCFG, DOCKER_CONFIG_JSON_KEY as DATA_KEY_DOCKERCONFIGJSON, DOCKER_CONFIG_JSON_TYPE as SECRET_TYPE_DOCKERCONFIGJSON} from '../secrets/metadata.ts';
import {decodeRawStdBase64, decodeStdBase64, decodeUtf8} from './goBase64.ts';
import {foldName, kindName, parseGoJson} from './goJson.ts';
import type {JsonNode} from './goJson.ts';


/** One registry entry as the kubelet reads it. `username`/`password` are what reaches the runtime. */
export type DockerConfigEntry = {
  /** The registry key exactly as written in the file (e.g. `https://index.docker.io/v1/`). */
  key: string;
  /** Effective username: from `auth` when it is non-empty, else the `username` field. */
  username: string;
  /** Effective password: from `auth` when it is non-empty, else the `password` field. */
  password: string;
  email?: string;
  /** The raw `auth` field, when present and non-empty. */
  auth?: string;
  /** Kept for diagnosis only: the kubelet never sends identity or registry tokens (R1.6). */
  identityToken?: string;
  registryToken?: string;
  /** When both `auth` and explicit `username`/`password` are present: whether they agree (R1.5). */
  authAgrees?: boolean;
};

/** What the kubelet makes of one pull secret. */
export type PullSecretParse =
  | {status: `ok`; format: `dockerconfigjson` | `dockercfg`; entries: DockerConfigEntry[]; warnings: string[]}
  | {status: `ignored`; reason: string}
  | {status: `invalid`; problems: string[]};

/** The parts of a Secret this module reads (plain JSON as the API returns it). */
export type SecretLike = {
  metadata: {name: string; namespace?: string};
  type?: string;
  /** base64-encoded values, as in the API. */
  data?: Record<string, string> | null;
};

/** `namespace/name`, or `name` alone. */
export function secretLabel(secret: SecretLike): string {
  return secret.metadata.namespace ? `${secret.metadata.namespace}/${secret.metadata.name}` : secret.metadata.name;
}

/**
 * Models secrets.go's MakeDockerKeyring for one secret: the type and the data key must belong together,
 * and an empty payload is skipped; a decode error in the payload breaks the whole lookup.
 */
export function parsePullSecret(secret: SecretLike): PullSecretParse {
  const label = `secret ${secretLabel(secret)}`;
  const data = secret.data ?? {};
  const type = secret.type ?? `Opaque`;
  const has = (key: string) => Object.hasOwn(data, key) && typeof data[key] === `string`;
  let format: `dockerconfigjson` | `dockercfg`;
  let dataKey: string;
  if (type === SECRET_TYPE_DOCKERCONFIGJSON && has(DATA_KEY_DOCKERCONFIGJSON)) {
    format = `dockerconfigjson`;
    dataKey = DATA_KEY_DOCKERCONFIGJSON;
  } else if (type === SECRET_TYPE_DOCKERCFG && has(DATA_KEY_DOCKERCFG)) {
    format = `dockercfg`;
    dataKey = DATA_KEY_DOCKERCFG;
  } else {
    return {status: `ignored`, reason: describeMismatch(label, type, Object.keys(data))};
  }
  const bytes = decodeStdBase64(data[dataKey]!);
  if (bytes === null)
    return {status: `invalid`, problems: [`${label}: data[${dataKey}] is not valid base64`]};
  if (bytes.length === 0)
    return {status: `ignored`, reason: `${label}: data[${dataKey}] is empty; the kubelet skips it`};
  return decodeDockerConfigPayload(decodeUtf8(bytes), format, `${label}: ${dataKey}`);
}

function describeMismatch(label: string, type: string, keys: string[]): string {
  const shown = keys.length === 0 ? `no data keys` : `data keys ${keys.map(key => JSON.stringify(key)).join(`, `)}`;
  if (type === SECRET_TYPE_DOCKERCONFIGJSON)
    return `${label}: type ${type} needs the data key ${DATA_KEY_DOCKERCONFIGJSON} but has ${shown}; the kubelet ignores it`;
  if (type === SECRET_TYPE_DOCKERCFG)
    return `${label}: type ${type} needs the data key ${DATA_KEY_DOCKERCFG} but has ${shown}; the kubelet ignores it`;
  return `${label}: type ${type} is not a pull-secret type (use ${SECRET_TYPE_DOCKERCONFIGJSON}); the kubelet ignores it`;
}

/**
 * Decodes a `.dockerconfigjson` (`{"auths":{…}}`) or `.dockercfg` (bare map) payload with the kubelet's
 * Go encoding/json semantics: case-insensitive field names, later duplicates win, unknown fields ignored,
 * a type mismatch in `auths`, `HttpHeaders`, an entry or one of its four fields is an error.
 */
export function decodeDockerConfigPayload(text: string, format: `dockerconfigjson` | `dockercfg`, label: string): PullSecretParse {
  const parsed = parseGoJson(text);
  if (!parsed.ok)
    return {status: `invalid`, problems: [`${label}: ${parsed.error}`]};
  const problems: string[] = [];
  const warnings: string[] = [];
  let auths: Map<string, JsonNode> | null = null;
  const root = parsed.value;
  if (format === `dockercfg`) {
    auths = readMap(root, label, `the top level`, problems);
  } else if (root.kind === `object`) {
    let sawAuths = false;
    for (const [name, value] of root.members) {
      const folded = foldName(name);
      if (folded === `AUTHS`) {
        sawAuths = true;
        // Go decodes a repeated map field into the same map (merging), and null resets it.
        if (value.kind === `null`)
          auths = null;
        else
          auths = readMap(value, label, `field "${name}"`, problems, auths);
      } else if (folded === `HTTPHEADERS`) {
        checkStringMap(value, label, name, problems);
      }
    }
    if (!sawAuths)
      warnings.push(`${label}: has no "auths" object, so the kubelet finds no credentials in it (is it in the legacy .dockercfg shape?)`);
  } else if (root.kind !== `null`) {
    problems.push(`${label}: must be a JSON object with an "auths" field, got ${kindName(root)}`);
  }
  const entries: DockerConfigEntry[] = [];
  for (const [key, node] of auths ?? []) {
    const entry = decodeEntry(key, node, label, problems);
    if (entry) {
      entries.push(entry);
      warnings.push(...entryWarnings(entry, label));
    }
  }
  if (problems.length > 0)
    return {status: `invalid`, problems};
  return {status: `ok`, format, entries, warnings};
}

function readMap(node: JsonNode, label: string, where: string, problems: string[], into: Map<string, JsonNode> | null = null): Map<string, JsonNode> | null {
  if (node.kind === `null`)
    return into;
  if (node.kind !== `object`) {
    problems.push(`${label}: ${where} must be an object mapping registry keys to entries, got ${kindName(node)}`);
    return into;
  }
  const map = into ?? new Map<string, JsonNode>();
  for (const [key, value] of node.members) {
    // A repeated key replaces the earlier entry (Go decodes each map value afresh).
    map.delete(key);
    map.set(key, value);
  }
  return map;
}

function checkStringMap(node: JsonNode, label: string, name: string, problems: string[]) {
  if (node.kind === `null`)
    return;
  if (node.kind !== `object`) {
    problems.push(`${label}: field "${name}" must be an object of strings, got ${kindName(node)}`);
    return;
  }
  for (const [header, value] of node.members) {
    if (value.kind !== `string` && value.kind !== `null`)
      problems.push(`${label}: field "${name}" header ${JSON.stringify(header)} must be a string, got ${kindName(value)}`);
  }
}

const ENTRY_FIELDS = new Map([[`USERNAME`, `username`], [`PASSWORD`, `password`], [`EMAIL`, `email`], [`AUTH`, `auth`]] as const);

function decodeEntry(key: string, node: JsonNode, label: string, problems: string[]): DockerConfigEntry | null {
  const where = `${label}: entry ${JSON.stringify(key)}`;
  const fields: {username?: string; password?: string; email?: string; auth?: string; identitytoken?: string; registrytoken?: string} = {};
  if (node.kind === `object`) {
    let ok = true;
    for (const [name, value] of node.members) {
      const folded = foldName(name);
      const field = ENTRY_FIELDS.get(folded as never);
      if (field) {
        if (value.kind === `string`)
          fields[field] = value.value;
        else if (value.kind !== `null`) {
          problems.push(`${where}: field "${name}" must be a string, got ${kindName(value)}`);
          ok = false;
        }
      } else if ((folded === `IDENTITYTOKEN` || folded === `REGISTRYTOKEN`) && value.kind === `string`) {
        fields[folded === `IDENTITYTOKEN` ? `identitytoken` : `registrytoken`] = value.value;
      }
    }
    if (!ok)
      return null;
  } else if (node.kind !== `null`) {
    // `"key": null` decodes to an empty entry; anything else that is not an object is a type error.
    problems.push(`${where}: must be an object, got ${kindName(node)}`);
    return null;
  }
  const entry: DockerConfigEntry = {key, username: fields.username ?? ``, password: fields.password ?? ``};
  if (fields.email)
    entry.email = fields.email;
  if (fields.identitytoken)
    entry.identityToken = fields.identitytoken;
  if (fields.registrytoken)
    entry.registryToken = fields.registrytoken;
  if (fields.auth) {
    entry.auth = fields.auth;
    const decoded = decodeAuthField(fields.auth);
    if (`error` in decoded) {
      problems.push(`${where}: field "auth" ${decoded.error}`);
      return null;
    }
    if (fields.username !== undefined || fields.password !== undefined)
      entry.authAgrees = decoded.username === (fields.username ?? ``) && decoded.password === (fields.password ?? ``);
    entry.username = decoded.username;
    entry.password = decoded.password;
  }
  return entry;
}

// Go's unicode.IsSpace, used by strings.TrimSpace.
const GO_SPACE = `[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]`;
const TRAILING_GO_SPACE = new RegExp(`${GO_SPACE}+$`);

/**
 * decodeDockerConfigFieldAuth: padded base64 when the trimmed value ends in `=`, unpadded otherwise
 * (the untrimmed value is decoded, so spaces fail); split at the FIRST colon.
 */
export function decodeAuthField(auth: string): {username: string; password: string} | {error: string} {
  const padded = auth.replace(TRAILING_GO_SPACE, ``).endsWith(`=`);
  const bytes = padded ? decodeStdBase64(auth) : decodeRawStdBase64(auth);
  if (bytes === null)
    return {error: `is not valid ${padded ? `padded` : `unpadded`} standard base64`};
  const colon = bytes.indexOf(0x3a);
  if (colon < 0)
    return {error: `does not decode to "username:password" (no colon)`};
  return {username: decodeUtf8(bytes.subarray(0, colon)), password: decodeUtf8(bytes.subarray(colon + 1))};
}

/** Warnings about one entry (prefixed with `label`) that never reveal its secret parts. */
export function entryWarnings(entry: DockerConfigEntry, label: string): string[] {
  const where = `${label}: entry ${JSON.stringify(entry.key)}`;
  const warnings: string[] = [];
  if (entry.identityToken !== undefined)
    warnings.push(`${where} has an identitytoken, which the kubelet never sends; ${entry.password === `` ? `with no password the pull is anonymous` : `only username/password are used`}`);
  if (entry.registryToken !== undefined)
    warnings.push(`${where} has a registrytoken, which the kubelet never sends`);
  if (entry.authAgrees === false)
    warnings.push(`${where}: "auth" disagrees with "username"/"password"; the kubelet uses "auth" (user ${JSON.stringify(entry.username)})`);
  if (entry.identityToken === undefined && entry.username === `` && entry.password === ``)
    warnings.push(`${where} has no credentials (empty username and password); pulls with it are anonymous`);
  else if (entry.identityToken === undefined && entry.password === ``)
    warnings.push(`${where} has an empty password; the runtime pulls anonymously with it`);
  const never = neverMatchingKey(entry.key);
  if (never !== undefined)
    warnings.push(`${where}: ${never}`);
  return warnings;
}

/** A parsed Docker config file: one pull secret's worth of entries. */
export type DockerConfigFile = {
  entries: DockerConfigEntry[];
  warnings: string[];
  format: `config.json` | `dockercfg` | `secret`;
};

const CONFIG_JSON_FIELDS = new Set([`AUTHS`, `CREDSSTORE`, `CREDHELPERS`, `HTTPHEADERS`, `PSFORMAT`, `IMAGESFORMAT`, `DETACHKEYS`, `CURRENTCONTEXT`, `PROXIES`, `PLUGINS`, `ALIASES`, `FEATURES`, `EXPERIMENTAL`, `STACKORCHESTRATOR`, `KUBERNETES`, `CREDENTIALSSTORE`, `SERVICESFORMAT`, `STATSFORMAT`, `NODESFORMAT`, `SECRETFORMAT`, `CONFIGFORMAT`, `PLUGINSFORMAT`, `VOLUMESFORMAT`, `NETWORKSFORMAT`, `TASKSFORMAT`, `CONTEXTSFORMAT`]);

/**
 * Reads a Docker `config.json`, a legacy `.dockercfg`, or a Secret manifest (YAML or JSON) as one pull
 * secret. Throws `InputError` naming `source` when the file is malformed or would break the kubelet's lookup.
 */
export function parseDockerConfigFile(text: string, source: string): DockerConfigFile {
  const fail = (what: string): never => {
    throw new InputError(oneLine(`${source}: ${what}`));
  };
  const json = parseGoJson(text);
  if (json.ok && json.value.kind === `object`) {
    const root = json.value;
    const names = root.members.map(([name]) => name);
    if (isSecretManifest(root))
      return fromSecretManifest(jsonToPlain(root), source, fail);
    if (root.members.length === 0 || names.some(name => CONFIG_JSON_FIELDS.has(foldName(name)))) {
      const result = decodeDockerConfigPayload(text, `dockerconfigjson`, source);
      if (result.status !== `ok`)
        return fail(describeFailure(result, source));
      return {entries: result.entries, warnings: [...result.warnings.filter(w => !w.includes(`has no "auths" object`)), ...helperWarnings(root, source)], format: `config.json`};
    }
    const result = decodeDockerConfigPayload(text, `dockercfg`, source);
    if (result.status !== `ok`)
      return fail(describeFailure(result, source));
    return {entries: result.entries, warnings: result.warnings, format: `dockercfg`};
  }
  if (json.ok)
    return fail(`expected a Docker config.json, a .dockercfg file or a Secret manifest, got a JSON ${kindName(json.value)}`);
  let documents;
  try {
    documents = parseAllDocuments(text, {prettyErrors: false}) as unknown;
  } catch {
    return fail(`is neither valid JSON nor valid YAML`);
  }
  const docs = Array.isArray(documents) ? documents : [documents];
  const values: unknown[] = [];
  for (const doc of docs as Array<{errors: Array<{message: string; code?: string; pos?: [number, number]}>; toJS: (options?: {maxAliasCount?: number}) => unknown}>) {
    if (doc.errors.length > 0)
      return fail(`is neither valid JSON (${json.error}) nor valid YAML (${yamlProblem(text, doc.errors[0]!)})`);
    let value: unknown;
    try {
      // toJS throws on YAML-level problems such as an unresolved alias or an alias bomb.
      value = doc.toJS({maxAliasCount: 100});
    } catch (error) {
      return fail(`is not valid YAML (${yamlProblem(text, {message: error instanceof Error ? error.message : String(error)})})`);
    }
    if (value !== null && value !== undefined)
      values.push(value);
  }
  if (values.length !== 1)
    return fail(values.length === 0 ? `is empty; give a Docker config.json, a .dockercfg file or a Secret manifest` : `holds ${values.length} YAML documents; give exactly one Secret per file`);
  // YAML is a superset of JSON that also takes trailing commas, unquoted values or a byte-order mark: text that
  // starts like JSON is JSON (kubectl's decoder sniffs the same way) and gets the JSON error.
  if (/^[\ufeff\s]*[{[]/.test(text))
    return fail(`is not valid JSON (${json.error})`);
  const value = values[0];
  if (!isPlainObject(value) || value.kind !== `Secret`)
    return fail(`expected a Secret manifest (kind: Secret), a Docker config.json or a .dockercfg file`);
  return fromSecretManifest(value, source, fail);
}

/** The problems of a failed parse as one line, without the `prefix: ` each problem starts with. */
function describeFailure(result: PullSecretParse, prefix?: string): string {
  if (result.status === `invalid`)
    return result.problems.map(problem => (prefix !== undefined && problem.startsWith(`${prefix}: `) ? problem.slice(prefix.length + 2) : problem)).join(`; `);
  if (result.status === `ignored`)
    return result.reason;
  return `unreadable`;
}

function isSecretManifest(root: JsonNode & {kind: `object`}): boolean {
  return root.members.some(([name, value]) => name === `kind` && value.kind === `string` && value.value === `Secret`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === `object` && value !== null && !Array.isArray(value);
}

function jsonToPlain(node: JsonNode): unknown {
  switch (node.kind) {
    case `object`: {
      const out: Record<string, unknown> = {};
      for (const [name, value] of node.members)
        Object.defineProperty(out, name, {value: jsonToPlain(value), enumerable: true, writable: true, configurable: true});
      return out;
    }
    case `array`: return node.items.map(jsonToPlain);
    case `string`: return node.value;
    case `number`: return Number(node.raw);
    case `bool`: return node.value;
    case `null`: return null;
  }
}

function fromSecretManifest(value: unknown, source: string, fail: (what: string) => never): DockerConfigFile {
  if (!isPlainObject(value))
    return fail(`expected a Secret manifest`);
  const metadata = isPlainObject(value.metadata) ? value.metadata : {};
  const name = typeof metadata.name === `string` && metadata.name !== `` ? metadata.name : source;
  const namespace = typeof metadata.namespace === `string` ? metadata.namespace : undefined;
  const type = value.type === undefined ? `Opaque` : value.type;
  if (typeof type !== `string`)
    return fail(`the Secret's "type" must be a string`);
  const data: Record<string, string> = {};
  for (const [field, encode] of [[`data`, false], [`stringData`, true]] as const) {
    const raw = value[field];
    if (raw === undefined || raw === null)
      continue;
    if (!isPlainObject(raw))
      return fail(`the Secret's "${field}" must be a map of strings`);
    for (const [key, item] of Object.entries(raw)) {
      if (typeof item !== `string`)
        return fail(`the Secret's ${field}[${key}] must be a string`);
      if (!encode && decodeStdBase64(item) === null)
        return fail(`the Secret's data[${key}] is not valid base64`);
      // stringData is merged over data by the API server.
      data[key] = encode ? bytesToBase64(new TextEncoder().encode(item)) : item;
    }
  }
  const result = parsePullSecret({metadata: {name, namespace}, type, data});
  if (result.status === `invalid`)
    return fail(describeFailure(result));
  if (result.status === `ignored`)
    return {entries: [], warnings: [result.reason], format: `secret`};
  return {entries: result.entries, warnings: result.warnings, format: `secret`};
}

function helperWarnings(root: JsonNode & {kind: `object`}, source: string): string[] {
  const warnings: string[] = [];
  for (const [name, value] of root.members) {
    const folded = foldName(name);
    if (folded === `CREDSSTORE` && value.kind === `string` && value.value !== ``)
      warnings.push(`${source}: credsStore "${value.value}" holds credentials outside this file; the kubelet cannot run credential helpers, so entries without credentials here are anonymous`);
    if (folded === `CREDHELPERS` && value.kind === `object` && value.members.length > 0)
      warnings.push(`${source}: credHelpers for ${value.members.map(([host]) => JSON.stringify(host)).join(`, `)} hold credentials outside this file; the kubelet cannot run credential helpers`);
  }
  return warnings;
}

function bytesToBase64(bytes: Uint8Array): string {
  const alphabet = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/`;
  let out = ``;
  for (let i = 0; i < bytes.length; i += 3) {
    const [a = 0, b = 0, c = 0] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    const bits = (a << 16) | (b << 8) | c;
    out += alphabet[(bits >> 18) & 63]! + alphabet[(bits >> 12) & 63]!;
    out += i + 1 < bytes.length ? alphabet[(bits >> 6) & 63]! : `=`;
    out += i + 2 < bytes.length ? alphabet[bits & 63]! : `=`;
  }
  return out;
}
