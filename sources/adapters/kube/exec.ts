/**
 * Exec credential plugins (kubeconfig `users[].user.exec`), run like kubectl does: the command with its
 * args, the environment of the invocation plus `exec.env` plus `KUBERNETES_EXEC_INFO`, stdout parsed as an
 * `ExecCredential` (client.authentication.k8s.io/v1 or v1beta1). The credential is kept until its
 * `status.expirationTimestamp`; after a 401 the plugin is run once more. Nothing here ever quotes the
 * plugin's stdout (it holds the token) in an error or a log line.
 */
import {PullSecretError} from '../../core/errors.ts';

export const EXEC_API_VERSIONS = [`client.authentication.k8s.io/v1`, `client.authentication.k8s.io/v1beta1`] as const;
/** Used when the kubeconfig names no apiVersion (client-go requires one; older kubeconfigs omit it). */
export const DEFAULT_EXEC_API_VERSION = `client.authentication.k8s.io/v1beta1`;

/** What the plugin printed, validated. */
export type ExecCredential = {
  token?: string;
  /** PEM, as the plugin printed it. */
  cert?: string;
  key?: string;
  /** Milliseconds since the epoch; undefined = valid until the server rejects it. */
  expiresAt?: number;
};

export type ExecPluginSpec = {
  /** The command, absolute when it was path-like in the kubeconfig. */
  command: string;
  /** The command found on PATH (or the path itself), which is what is spawned. */
  executable: string;
  args: string[];
  /** `exec.env` of the kubeconfig, laid over the invocation's environment. */
  env: Array<{name: string; value: string}>;
  apiVersion: string;
  /** `user "u" (file)`, for messages. */
  who: string;
};

/** Runs the plugin once; throws a one-line `PullSecretError` naming the plugin and the user. */
export function runExecPlugin(spec: ExecPluginSpec, baseEnv: Record<string, string | undefined>): Promise<ExecCredential> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(baseEnv)) {
    if (value !== undefined)
      env[name] = value;
  }
  for (const {name, value} of spec.env)
    env[name] = value;
  // kubectl tells the plugin which API version to answer in and that it cannot prompt.
  env.KUBERNETES_EXEC_INFO = JSON.stringify({apiVersion: spec.apiVersion, kind: `ExecCredential`, spec: {interactive: false}});
  const name = `exec credential plugin "${spec.command}" of ${spec.who}`;
  // node:child_process (and dgram with it) loads only for kubeconfigs with an exec plugin.
  const {spawn} = process.getBuiltinModule(`node:child_process`);

  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    let stderr = ``;
    let failure: Error | undefined;
    const child = spawn(spec.executable, spec.args, {env, argv0: spec.command, stdio: [`ignore`, `pipe`, `pipe`]});
    child.stdout.on(`data`, (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding(`utf8`);
    child.stderr.on(`data`, (chunk: string) => {
      if (stderr.length < 64 * 1024)
        stderr += chunk;
    });
    child.on(`error`, error => {
      failure = error;
    });
    child.on(`close`, (code, signal) => {
      if (failure) {
        const notFound = (failure as NodeJS.ErrnoException).code === `ENOENT`;
        reject(new PullSecretError(notFound
          ? `${name} was not found: install it or fix users[].user.exec.command in the kubeconfig`
          : `${name} could not be started: ${(failure as NodeJS.ErrnoException).code ?? firstLine(failure.message)}`, {cause: failure}));
        return;
      }
      if (code !== 0) {
        const why = firstLine(stderr) || (signal ? `it was killed by ${signal}` : `it exited with code ${code}`);
        reject(new PullSecretError(`${name} failed: ${why}`));
        return;
      }
      try {
        resolve(parseExecCredential(Buffer.concat(stdout).toString(`utf8`), spec.apiVersion));
      } catch (error) {
        reject(new PullSecretError(`${name} ${(error as Error).message}`));
      }
    });
  });
}

/**
 * Validates the plugin's stdout. Errors are phrased to follow `exec credential plugin "x" of user "u"`
 * and never include the output itself.
 */
export function parseExecCredential(stdout: string, apiVersion: string): ExecCredential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    // The SyntaxError quotes the output, which may hold the token: not kept as the cause either.
    throw new Error(`did not print an ExecCredential JSON object`);
  }
  if (!isRecord(parsed))
    throw new Error(`did not print an ExecCredential JSON object`);
  if (parsed.kind !== `ExecCredential`)
    throw new Error(`did not print an ExecCredential (its kind is not ExecCredential)`);
  if (parsed.apiVersion !== apiVersion)
    throw new Error(`printed apiVersion ${describe(parsed.apiVersion)} but the kubeconfig asks for "${apiVersion}"; fix users[].user.exec.apiVersion or update the plugin`);
  const status = parsed.status;
  if (!isRecord(status))
    throw new Error(`printed an ExecCredential without a status`);
  const credential: ExecCredential = {};
  for (const [field, key] of [[`token`, `token`], [`clientCertificateData`, `cert`], [`clientKeyData`, `key`]] as const) {
    const value = status[field];
    if (value === undefined || value === null || value === ``)
      continue;
    if (typeof value !== `string`)
      throw new Error(`printed an ExecCredential whose status.${field} is not a string`);
    credential[key] = value;
  }
  if ((credential.cert === undefined) !== (credential.key === undefined))
    throw new Error(`printed status.${credential.cert === undefined ? `clientKeyData` : `clientCertificateData`} without status.${credential.cert === undefined ? `clientCertificateData` : `clientKeyData`}`);
  if (credential.token === undefined && credential.cert === undefined)
    throw new Error(`printed an ExecCredential with neither status.token nor status.clientCertificateData`);
  const expiration = status.expirationTimestamp;
  if (expiration !== undefined && expiration !== null && expiration !== ``) {
    const time = typeof expiration === `string` ? Date.parse(expiration) : Number.NaN;
    if (Number.isNaN(time))
      throw new Error(`printed a status.expirationTimestamp that is not an RFC 3339 time`);
    credential.expiresAt = time;
  }
  return credential;
}

/**
 * The credential of one exec plugin for one session: cached until it expires, one plugin run at a
 * time (concurrent requests share it), renewed at most once per rejected credential.
 */
export class ExecCredentialSource {
  private readonly run: () => Promise<ExecCredential>;
  private readonly now: () => number;
  private cached: ExecCredential | undefined;
  private inflight: Promise<ExecCredential> | undefined;

  constructor(run: () => Promise<ExecCredential>, now: () => number = Date.now) {
    this.run = run;
    this.now = now;
  }

  /** The cached credential, or a fresh one when there is none or it has expired. */
  get(): Promise<ExecCredential> {
    if (this.inflight)
      return this.inflight;
    if (this.cached && !this.expired(this.cached))
      return Promise.resolve(this.cached);
    return this.refresh();
  }

  /**
   * The server rejected `rejected`: runs the plugin again, unless another request already did so since.
   * Resolves to the credential to retry with.
   */
  renew(rejected: ExecCredential): Promise<ExecCredential> {
    if (this.inflight)
      return this.inflight;
    if (this.cached && this.cached !== rejected && !this.expired(this.cached))
      return Promise.resolve(this.cached);
    return this.refresh();
  }

  private expired(credential: ExecCredential): boolean {
    return credential.expiresAt !== undefined && credential.expiresAt <= this.now();
  }

  /** One run at a time: requests that find the same expired or rejected credential share it. */
  private refresh(): Promise<ExecCredential> {
    const run = this.run().then(credential => {
      this.cached = credential;
      return credential;
    }).finally(() => {
      this.inflight = undefined;
    });
    this.inflight = run;
    return run;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === `object` && value !== null && !Array.isArray(value);
}

/** Only a known version is echoed: anything else the plugin printed could be secret. */
function describe(value: unknown): string {
  return typeof value === `string` && /^client\.authentication\.k8s\.io\/v1(?:alpha1|beta1)?$/.test(value) ? `"${value}"` : value === undefined ? `(none)` : `(another value)`;
}

function firstLine(text: string): string {
  const line = text.split(`\n`).map(part => part.trim()).find(part => part !== ``) ?? ``;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
