/**
 * Turns the chosen kubeconfig user into request credentials: headers (bearer token, basic auth,
 * impersonation) and TLS client certificate/key. client-node does the parts it does well (exec
 * credential plugins with their token cache, auth-provider plugins, client certificates) and is
 * loaded lazily here; token files are read and trimmed here because client-node keeps the newline.
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
  const hasClientNodeAuth = exec !== undefined || isRecord(user[`auth-provider`]);
  const needsClientNode = hasClientNodeAuth || [`token`, `username`, `client-certificate`, `client-certificate-data`, `client-key`, `client-key-data`, `as`].some(key => typeof user[key] === `string` && user[key] !== ``);
  if (!needsClientNode)
    return {headers: async () => ({...impersonation}), kind: `anonymous`};

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
  const kind = exec ? `exec plugin` : isRecord(user[`auth-provider`]) ? `auth-provider` : first.cert ? `client certificate` : user.token ? `bearer token` : user.username ? `basic auth` : `anonymous`;
  const staticHeaders = toHeaders(first);
  return {
    headers: hasClientNodeAuth ? async () => toHeaders(await apply()) : async () => ({...staticHeaders}),
    cert: first.cert as string | Buffer | undefined,
    key: first.key as string | Buffer | undefined,
    kind,
  };
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
