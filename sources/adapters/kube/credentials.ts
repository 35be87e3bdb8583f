/**
 * Turns the chosen kubeconfig user into request credentials: headers (bearer token, basic auth,
 * impersonation) and TLS client certificate/key. Static credentials (token, token-file, basic auth,
 * client certificates) and exec credential plugins (`exec.ts`) are handled here; client-node is loaded
 * lazily only for what needs its plugin machinery: auth-provider plugins.
 */
import fs from 'node:fs';
import {INPUT_CAPS, readBoundedFileSync} from '../local/files.ts';
import path from 'node:path';
import type {RequestOptions} from 'node:https';
import {PullSecretError} from '../../core/errors.ts';
import {describeFsError, isRecord} from './kubeconfig.ts';
import type {ResolvedContext} from './kubeconfig.ts';
import {DEFAULT_EXEC_API_VERSION, EXEC_API_VERSIONS, ExecCredentialSource, runExecPlugin} from './exec.ts';
import {useDefaultTrust} from '../trust.ts';
import type {ExecCredential} from './exec.ts';

/** What one request authenticates with. */
export type RequestCredentials = {
  headers: Record<string, string>;
  /** PEM client certificate and key for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /**
   * Only for exec plugins: after the server answered 401 to these credentials, runs the plugin again
   * (unless a concurrent request already did) and resolves to the credentials to retry with.
   */
  renew?: () => Promise<RequestCredentials>;
};

/** What requests need from the user entry. */
export type Credentials = {
  /** The credentials for the next request; an exec plugin is run again when its credential has expired. */
  current(): Promise<RequestCredentials>;
  /** What was loaded when the session opened (checked then, so that unusable TLS material fails early). */
  initial: RequestCredentials;
  /** A short description of how the user authenticates (never the secret), for `-v`. */
  kind: string;
};

/** Loads the credentials of the resolved user; throws one-line `PullSecretError`s naming the user and file. */
export async function loadCredentials(resolved: ResolvedContext, env: Record<string, string | undefined>, options: {log?: (line: string) => void; now?: () => number} = {}): Promise<Credentials> {
  const {user: entry} = resolved;
  const user: Record<string, unknown> = {...entry.user};
  const who = `user "${entry.name}" (${entry.origin})`;

  // client-go reads token-file when there is no inline token and trims surrounding whitespace.
  const tokenFile = typeof user[`token-file`] === `string` ? user[`token-file`] : undefined;
  delete user[`token-file`];
  if (tokenFile !== undefined && (typeof user.token !== `string` || user.token === ``)) {
    let token: string;
    try {
      token = readBoundedFileSync(tokenFile, INPUT_CAPS.pem, `token-file ${tokenFile} of ${who}`).toString(`utf8`).trim();
    } catch (error) {
      if (error instanceof PullSecretError)
        throw error;
      throw new PullSecretError(`cannot read token-file of ${who}: ${tokenFile}: ${describeFsError(error)}`, {cause: error});
    }
    if (token === ``)
      throw new PullSecretError(`token-file ${tokenFile} of ${who} is empty`);
    user.token = token;
  }
  for (const key of [`client-certificate`, `client-key`] as const) {
    const file = user[key];
    if (typeof file === `string` && file !== `` && (typeof user[`${key}-data`] !== `string` || user[`${key}-data`] === ``)) {
      try {
        fs.accessSync(file, fs.constants.R_OK);
      } catch (error) {
        throw new PullSecretError(`cannot read ${key} of ${who}: ${file}: ${describeFsError(error)}`, {cause: error});
      }
    }
  }
  const impersonation = impersonationHeaders(user);
  if (isRecord(user.exec))
    return execCredentials(user.exec, env, impersonation, who, options);
  if (!isRecord(user[`auth-provider`]))
    return staticCredentials(user, impersonation, who);

  // auth-provider plugins (gcp, azure, oidc) need client-node's machinery, loaded only here.
  const {KubeConfig} = await import(`./clientNode.ts`);
  const kc = new KubeConfig();
  try {
    // JSON is YAML: client-node parses the entries it knows; paths were already made absolute.
    kc.loadFromString(JSON.stringify({
      clusters: [{name: `cluster`, cluster: {server: `https://127.0.0.1`}}],
      users: [{name: entry.name === `` ? `anonymous` : entry.name, user}],
      contexts: [{name: `context`, context: {cluster: `cluster`, user: entry.name === `` ? `anonymous` : entry.name}}],
      [`current-context`]: `context`,
    }));
  } catch (error) {
    throw new PullSecretError(`cannot load ${who}: ${firstLine(error)}`, {cause: error});
  }

  const apply = async (): Promise<RequestOptions> => {
    const options: RequestOptions = {};
    // An auth provider may fetch tokens over TLS with Node's default trust store (adapters/trust.ts).
    useDefaultTrust();
    try {
      await kc.applyToHTTPSOptions(options);
    } catch (error) {
      // A JavaScript error from inside client-node's plugin (a TypeError on an incomplete entry) is not a message for users.
      const name = String((user[`auth-provider`] as Record<string, unknown>).name);
      const reason = error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError
        ? `its ${name} auth-provider entry is incomplete (no usable token in its config)`
        : firstLine(error);
      // kubectl (client-go 1.26+) removed these two plugins; say what it says to use instead.
      const removed = REMOVED_AUTH_PROVIDERS[name];
      throw new PullSecretError(`cannot get credentials for ${who}: ${reason}${removed === undefined ? `` : `; the ${name} auth plugin has been removed from kubectl: use the ${removed} kubectl/client-go credential plugin instead`}`, {cause: error});
    }
    return options;
  };
  const toHeaders = (options: RequestOptions): Record<string, string> => {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      if (typeof value === `string`)
        headers[key] = value;
    }
    if (typeof options.auth === `string` && options.auth !== ``)
      headers.Authorization = `Basic ${Buffer.from(options.auth).toString(`base64`)}`;
    return {...headers, ...impersonation};
  };

  // One call now: a failing provider is reported when the session opens, not mid-command.
  const first = await apply();
  const cert = first.cert as string | Buffer | undefined;
  const key = first.key as string | Buffer | undefined;
  return {
    // Asked per request: client-node refreshes auth-provider tokens when they expire.
    current: async () => ({headers: toHeaders(await apply()), cert, key}),
    initial: {headers: toHeaders(first), cert, key},
    kind: `auth-provider`,
  };
}

/** Auth-provider plugins client-go 1.26 removed, and the credential plugin kubectl names instead. */
const REMOVED_AUTH_PROVIDERS: Record<string, string> = {
  gcp: `"gke-gcloud-auth-plugin"`,
  azure: `https://github.com/Azure/kubelogin`,
};

/**
 * An exec credential plugin, run by this adapter (client-node's ExecAuth can only inherit this
 * process's environment): once now, so that a missing or failing plugin is reported when the session
 * opens; again when its credential expires, and once after the server rejects it.
 */
async function execCredentials(exec: Record<string, unknown>, env: Record<string, string | undefined>, impersonation: Record<string, string>, who: string, options: {log?: (line: string) => void; now?: () => number}): Promise<Credentials> {
  const command = typeof exec.command === `string` ? exec.command : ``;
  if (command === ``)
    throw new PullSecretError(`the exec credential plugin of ${who} has no command; fix users[].user.exec.command`);
  const apiVersion = typeof exec.apiVersion === `string` && exec.apiVersion !== `` ? exec.apiVersion : DEFAULT_EXEC_API_VERSION;
  if (!(EXEC_API_VERSIONS as readonly string[]).includes(apiVersion))
    throw new PullSecretError(`the exec credential plugin "${command}" of ${who} uses apiVersion "${apiVersion}", which is not supported; use ${EXEC_API_VERSIONS.join(` or `)}`);
  const executable = findExecutable(command, env.PATH);
  if (executable === undefined) {
    const hint = typeof exec.installHint === `string` && exec.installHint.trim() !== `` ? exec.installHint.trim() : `install it or fix users[].user.exec.command in the kubeconfig`;
    throw new PullSecretError(`exec credential plugin "${command}" of ${who} was not found${command.includes(path.sep) ? `` : ` on PATH`}: ${hint}`);
  }
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const execEnv = (Array.isArray(exec.env) ? exec.env.filter(isRecord) : [])
    .filter(entry => typeof entry.name === `string` && entry.name !== ``)
    .map(entry => ({name: String(entry.name), value: typeof entry.value === `string` ? entry.value : String(entry.value ?? ``)}));
  const spec = {command, executable, args, env: execEnv, apiVersion, who};

  let runs = 0;
  const source = new ExecCredentialSource(async () => {
    if (runs++ > 0)
      options.log?.(`running exec credential plugin "${command}" of ${who} again`);
    return runExecPlugin(spec, env);
  }, options.now);
  const toRequest = (credential: ExecCredential): RequestCredentials => ({
    headers: {...(credential.token === undefined ? {} : {Authorization: `Bearer ${credential.token}`}), ...impersonation},
    cert: credential.cert,
    key: credential.key,
    renew: async () => toRequest(await source.renew(credential)),
  });
  const first = await source.get();
  return {
    current: async () => toRequest(await source.get()),
    initial: toRequest(first),
    kind: `exec plugin${first.cert === undefined ? `` : ` (client certificate)`}`,
  };
}

/**
 * Bearer token, basic auth and client certificates need no plugin machinery: handled here, they keep
 * client-node out of the process (measured: loading it costs about 75 ms of CPU per command, unbundled
 * code cache aside, against about 140 ms for a whole `add --dry-run=server` without it).
 */
function staticCredentials(user: Record<string, unknown>, impersonation: Record<string, string>, who: string): Credentials {
  const headers: Record<string, string> = {...impersonation};
  const token = typeof user.token === `string` ? user.token.trim() : ``;
  const username = typeof user.username === `string` ? user.username : ``;
  // client-go rejects a user with both a token and basic auth; the token is the safer choice here.
  if (token !== ``)
    headers.Authorization = `Bearer ${token}`;
  else if (username !== ``)
    headers.Authorization = `Basic ${Buffer.from(`${username}:${typeof user.password === `string` ? user.password : ``}`).toString(`base64`)}`;
  const cert = pemFromDataOrFile(user, `client-certificate`, who);
  const key = pemFromDataOrFile(user, `client-key`, who);
  if ((cert === undefined) !== (key === undefined))
    throw new PullSecretError(`${who} has a client ${cert === undefined ? `key` : `certificate`} without its ${cert === undefined ? `certificate` : `key`}; set both client-certificate and client-key`);
  const kind = [token !== `` ? `bearer token` : username !== `` ? `basic auth` : ``, cert ? `client certificate` : ``].filter(Boolean).join(` + `) || `anonymous`;
  return {current: async () => ({headers: {...headers}, cert, key}), initial: {headers: {...headers}, cert, key}, kind};
}

/** `<key>-data` (base64) wins over the `<key>` file, as in client-go. */
function pemFromDataOrFile(user: Record<string, unknown>, key: `client-certificate` | `client-key`, who: string): Buffer | undefined {
  const data = user[`${key}-data`];
  if (typeof data === `string` && data !== ``)
    return Buffer.from(data, `base64`);
  const file = user[key];
  if (typeof file !== `string` || file === ``)
    return undefined;
  try {
    return readBoundedFileSync(file, INPUT_CAPS.pem, `${key} ${file} of ${who}`);
  } catch (error) {
    if (error instanceof PullSecretError)
      throw error;
    throw new PullSecretError(`cannot read ${key} of ${who}: ${file}: ${describeFsError(error)}`, {cause: error});
  }
}

function impersonationHeaders(user: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (typeof user.as === `string` && user.as !== ``)
    headers[`Impersonate-User`] = user.as;
  if (Array.isArray(user[`as-groups`]) && user[`as-groups`].length > 0)
    headers[`Impersonate-Group`] = user[`as-groups`].map(String).join(`,`);
  if (typeof user[`as-uid`] === `string` && user[`as-uid`] !== ``)
    headers[`Impersonate-Uid`] = user[`as-uid`];
  return headers;
}

/** Looks a command up like exec.LookPath: a path is checked directly, a bare name on PATH. */
function findExecutable(command: string, searchPath: string | undefined): string | undefined {
  const candidates = command.includes(path.sep) ? [command] : (searchPath ?? ``).split(path.delimiter).filter(dir => dir !== ``).map(dir => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile())
        return candidate;
    } catch {
      // Not here; try the next directory.
    }
  }
  return undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split(`\n`).map(part => part.trim()).find(part => part !== ``) ?? ``;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
