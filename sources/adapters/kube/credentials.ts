/**
 * Turns the chosen kubeconfig user into request credentials: headers (bearer token, basic auth,
 * impersonation) and TLS client certificate/key. Static credentials (token, token-file, basic auth,
 * client certificates) are handled here; client-node is loaded lazily only for what needs its plugin
 * machinery: exec credential plugins (with their token cache) and auth-provider plugins.
 */
import fs from 'node:fs';
import path from 'node:path';
import type {RequestOptions} from 'node:https';
import {PullSecretError} from '../../core/errors.ts';
import {describeFsError, isRecord} from './kubeconfig.ts';
import type {ResolvedContext} from './kubeconfig.ts';

/** What a request needs from the user entry. */
export type Credentials = {
  /** Headers for the next request; exec/auth-provider tokens are refreshed by client-node when they expire. */
  headers(): Promise<Record<string, string>>;
  /** PEM client certificate and key for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** A short description of how the user authenticates (never the secret), for `-v`. */
  kind: string;
};

const EXEC_API_VERSION = `client.authentication.k8s.io/v1beta1`;

/** Loads the credentials of the resolved user; throws one-line `PullSecretError`s naming the user and file. */
export async function loadCredentials(resolved: ResolvedContext, env: Record<string, string | undefined>): Promise<Credentials> {
  const {user: entry} = resolved;
  const user: Record<string, unknown> = {...entry.user};
  const who = `user "${entry.name}" (${entry.origin})`;

  // client-go reads token-file when there is no inline token and trims surrounding whitespace.
  const tokenFile = typeof user[`token-file`] === `string` ? user[`token-file`] : undefined;
  delete user[`token-file`];
  if (tokenFile !== undefined && (typeof user.token !== `string` || user.token === ``)) {
    let token: string;
    try {
      token = fs.readFileSync(tokenFile, `utf8`).trim();
    } catch (error) {
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
  const exec = isRecord(user.exec) ? user.exec : undefined;
  if (exec) {
    const command = typeof exec.command === `string` ? exec.command : ``;
    if (command === ``)
      throw new PullSecretError(`the exec credential plugin of ${who} has no command; fix users[].user.exec.command`);
    if (findExecutable(command, env.PATH) === undefined) {
      const hint = typeof exec.installHint === `string` && exec.installHint.trim() !== `` ? exec.installHint.trim() : `install it or fix users[].user.exec.command in the kubeconfig`;
      throw new PullSecretError(`exec credential plugin "${command}" of ${who} was not found${command.includes(path.sep) ? `` : ` on PATH`}: ${hint}`);
    }
    // kubectl passes KUBERNETES_EXEC_INFO; plugins for the v1 API read it.
    const execEnv = Array.isArray(exec.env) ? exec.env.filter(isRecord) : [];
    const apiVersion = typeof exec.apiVersion === `string` ? exec.apiVersion : EXEC_API_VERSION;
    execEnv.push({name: `KUBERNETES_EXEC_INFO`, value: JSON.stringify({apiVersion, kind: `ExecCredential`, spec: {interactive: false}})});
    user.exec = {...exec, args: Array.isArray(exec.args) ? exec.args : [], env: execEnv};
  }

  const impersonation = impersonationHeaders(user);
  if (exec === undefined && !isRecord(user[`auth-provider`]))
    return staticCredentials(user, impersonation, who);

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
    try {
      await kc.applyToHTTPSOptions(options);
    } catch (error) {
      throw describeAuthFailure(error, exec, who);
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

  // One call now: a missing or failing plugin is reported when the session opens, not mid-command.
  const first = await apply();
  return {
    // Asked per request: client-node refreshes exec and auth-provider tokens when they expire.
    headers: async () => toHeaders(await apply()),
    cert: first.cert as string | Buffer | undefined,
    key: first.key as string | Buffer | undefined,
    kind: exec ? `exec plugin` : `auth-provider`,
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
  return {headers: async () => ({...headers}), cert, key, kind};
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
    return fs.readFileSync(file);
  } catch (error) {
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

function describeAuthFailure(error: unknown, exec: Record<string, unknown> | undefined, who: string): PullSecretError {
  if (exec) {
    const command = String(exec.command);
    if ((error as NodeJS.ErrnoException).code === `ENOENT`)
      return new PullSecretError(`exec credential plugin "${command}" of ${who} was not found: install it or fix users[].user.exec.command in the kubeconfig`, {cause: error});
    if (error instanceof SyntaxError)
      return new PullSecretError(`exec credential plugin "${command}" of ${who} did not print an ExecCredential JSON object`, {cause: error});
    return new PullSecretError(`exec credential plugin "${command}" of ${who} failed: ${firstLine(error) || `it exited with an error`}`, {cause: error});
  }
  return new PullSecretError(`cannot get credentials for ${who}: ${firstLine(error)}`, {cause: error});
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
