// The real-registry harness: Debian's `docker-registry` (CNCF distribution 2.8.2) on 127.0.0.1 in
// one of three modes (docs/testing.md A.1–A.3), with an in-process token server for token mode.
// Every process it starts is stopped by PID in `stop()`, and killed when the test process exits.
import {execFileSync} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {closedPort} from '../clusters.ts';
import {forgetWatched, startWatched, stopWatched} from '../watchedProcess.ts';
import {sharedTestTls} from './certs.ts';
import {basicAuth, rawRequest} from './http.ts';
import {pushImage, pushTags} from './push.ts';
import type {ImageKind, PushOptions} from './push.ts';
import {readRequestLog, settledRequestLog} from './requestLog.ts';
import type {LoggedRequest} from './requestLog.ts';
import {startTokenServer} from './tokenServer.ts';
import type {TokenRequest, TokenServer} from './tokenServer.ts';

export type {TokenRequest} from './tokenServer.ts';
export type {LoggedRequest} from './requestLog.ts';
export type {ImageKind, PushOptions, PushPlatform} from './push.ts';

export type RegistryMode = `basic` | `tls` | `token`;

export type StartRegistryOptions = {
  mode: RegistryMode;
  /** user → password (htpasswd users in basic/tls mode, token-server users in token mode). */
  users?: Record<string, string>;
  /** Token mode: user → repository glob (`*` matches anything) → actions, e.g. `{alice: {'demo/*': ['pull']}}`. */
  grants?: Record<string, Record<string, string[]>>;
  /** Token mode: repository globs anonymous (and every user) may pull. */
  anonymousPull?: string[];
  /** Token mode: when false the token server answers the OAuth2 POST with 404 (as gcr.io does). Default true. */
  oauthPost?: boolean;
};

export type TestRegistry = {
  /** `127.0.0.1:<port>`, as written in an image reference. */
  host: string;
  /** `http(s)://127.0.0.1:<port>`. */
  url: string;
  /** TLS mode: the test CA that signed the registry's certificate. */
  caFile?: string;
  caPem?: string;
  /** Token mode: the realm the registry's challenges name. */
  tokenRealm?: string;
  /** Token mode: `test-registry`. */
  tokenService?: string;
  /** Every request the token server received, in order. */
  tokenRequests: TokenRequest[];
  /** The PID of the watchdog shell whose child is the `docker-registry` process (benchmarks read its CPU time). */
  watchdogPid: number;
  /** The registry's log (one `response completed` line per request it answered). */
  logFile: string;
  /** The requests the registry logged after byte `from` of its log (see requestLog.ts), in order. */
  requestLog(from?: number): LoggedRequest[];
  /** The same, once `enough` holds for them (up to 2 s: the registry logs a request just after answering it). */
  settledRequestLog(from: number, enough: (requests: LoggedRequest[]) => boolean): Promise<LoggedRequest[]>;
  /** Pushes a tiny real image with admin rights; returns the digest and media type stored under the tag. */
  push(repository: string, tag: string, kind?: ImageKind, options?: PushOptions): Promise<{digest: string; mediaType: string}>;
  /** Pushes distinct images under many tags of one repository, sharing their blobs (fast: one request per tag). */
  pushTags(repository: string, tags: string[]): Promise<void>;
  /** Stops the registry (and token server) and removes its directory; safe to call twice. */
  stop(): Promise<void>;
};

const TOKEN_SERVICE = `test-registry`;
const TOKEN_ISSUER = `test-token-issuer`;
const ADMIN_USER = `harness-admin`;
/**
 * bcrypt cost of the test htpasswd entries: 4, the least `htpasswd -C` allows (Apache's default is 5, Docker's
 * guide uses 10). Measured on the 2-core machine (docker-registry 2.8.2, keep-alive HEADs of a manifest): about
 * 2.4 ms of registry CPU per authenticated request at cost 4, 3.5 ms at 5, against 1.35 ms for a token request.
 * The cost only changes how long the registry hashes; nothing of what a client must send or may expect.
 */
const BCRYPT_COST = 4;

/** Throws a clear message when the Debian packages the harness needs are missing. */
function requireTools(): void {
  for (const [tool, pkg] of [[`docker-registry`, `docker-registry`], [`htpasswd`, `apache2-utils`], [`openssl`, `openssl`]]) {
    try {
      execFileSync(`sh`, [`-c`, `command -v ${tool}`], {stdio: `ignore`});
    } catch {
      throw new Error(`${tool} is not installed: run \`apt-get install -y ${pkg}\` (as .ci/run does)`);
    }
  }
}


function htpasswdLine(user: string, password: string): string {
  // The registry honours only bcrypt entries and checks the password with bcrypt on EVERY request (it caches nothing).
  return execFileSync(`htpasswd`, [`-Bbn`, `-C`, String(BCRYPT_COST), user, password], {encoding: `utf8`}).trim();
}

function configYaml(options: {dir: string; port: number; mode: RegistryMode; tls?: {cert: string; key: string}; tokenRealm?: string; bundle?: string}): string {
  const lines = [
    `version: 0.1`,
    `log: {level: info, accesslog: {disabled: true}}`,
    `storage:`,
    `  filesystem: {rootdirectory: ${options.dir}/data}`,
    `  delete: {enabled: true}`,
    `http:`,
    `  addr: 127.0.0.1:${options.port}`,
    `  secret: not-a-secret`,
  ];
  if (options.tls !== undefined)
    lines.push(`  tls: {certificate: ${options.tls.cert}, key: ${options.tls.key}}`);
  lines.push(`auth:`);
  if (options.mode === `token`)
    lines.push(`  token: {realm: "${options.tokenRealm}", service: ${TOKEN_SERVICE}, issuer: ${TOKEN_ISSUER}, rootcertbundle: ${options.bundle}}`);
  else
    lines.push(`  htpasswd: {realm: basic-realm, path: ${options.dir}/htpasswd}`);
  return `${lines.join(`\n`)}\n`;
}

async function waitReady(url: string, child: ChildProcess, logFile: string, ca: string | undefined): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      return false;
    try {
      await rawRequest(`${url}/v2/`, {ca, timeoutMs: 1000});
      return true;
    } catch {
      await new Promise(resolve => setTimeout(resolve, 15));
    }
  }
  throw new Error(`docker-registry did not answer on ${url} within 15 s; log: ${fs.readFileSync(logFile, `utf8`).slice(-2000)}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  await stopWatched(child, 3000);
}

/** Starts a real registry in the given mode on a random loopback port and waits until it answers. */
export async function startRegistry(options: StartRegistryOptions): Promise<TestRegistry> {
  requireTools();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-registry-`));
  const adminPassword = crypto.randomBytes(12).toString(`hex`);
  const users = options.users ?? {};
  // openssl costs ~50 ms a call: only the TLS and token modes need certificates.
  const tls = options.mode === `basic` ? undefined : sharedTestTls();
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  try {
    if (options.mode === `token`) {
      tokenServer = await startTokenServer({
        service: TOKEN_SERVICE,
        issuer: TOKEN_ISSUER,
        keyPem: tls!.signer.keyPem,
        users,
        grants: options.grants ?? {},
        anonymousPull: options.anonymousPull ?? [],
        oauthPost: options.oauthPost,
      });
    } else {
      const lines = [htpasswdLine(ADMIN_USER, adminPassword), ...Object.entries(users).map(([user, password]) => htpasswdLine(user, password))];
      fs.writeFileSync(path.join(dir, `htpasswd`), `${lines.join(`\n`)}\n`, {mode: 0o600});
    }
    const scheme = options.mode === `tls` ? `https` : `http`;
    const ca = options.mode === `tls` ? tls!.ca.pem : undefined;
    const logFile = path.join(dir, `registry.log`);
    // A port picked by the kernel can be taken again before the registry binds it: retry a few times.
    for (let attempt = 1; ; attempt++) {
      const port = await closedPort();
      const configFile = path.join(dir, `config.yml`);
      fs.writeFileSync(configFile, configYaml({
        dir,
        port,
        mode: options.mode,
        tls: options.mode === `tls` ? {cert: tls!.server.certFile, key: tls!.server.keyFile} : undefined,
        tokenRealm: tokenServer?.realm,
        bundle: tls?.signer.certFile,
      }));
      const log = fs.openSync(logFile, `w`);
      child = startWatched(`docker-registry serve`, configFile, log);
      fs.closeSync(log);
      const url = `${scheme}://127.0.0.1:${port}`;
      if (await waitReady(url, child, logFile, ca)) {
        const started = child;
        const server = tokenServer;
        const authorization = (repository: string): string => server === undefined
          ? basicAuth(ADMIN_USER, adminPassword)
          : `Bearer ${server.mint(ADMIN_USER, [{type: `repository`, name: repository, actions: [`pull`, `push`]}])}`;
        let stopped = false;
        return {
          host: `127.0.0.1:${port}`,
          url,
          caFile: options.mode === `tls` ? tls!.ca.certFile : undefined,
          caPem: ca,
          tokenRealm: server?.realm,
          tokenService: server === undefined ? undefined : TOKEN_SERVICE,
          tokenRequests: server?.requests ?? [],
          watchdogPid: started.pid!,
          logFile,
          requestLog: from => readRequestLog(logFile, from),
          settledRequestLog: (from, enough) => settledRequestLog(logFile, from, enough),
          push: (repository, tag, kind, pushOptions) => pushImage({url, ca, authorization}, repository, tag, kind, pushOptions),
          pushTags: (repository, tags) => pushTags({url, ca, authorization}, repository, tags),
          stop: async () => {
            if (stopped)
              return;
            stopped = true;
            await stopChild(started);
            await server?.stop();
            fs.rmSync(dir, {recursive: true, force: true});
          },
        };
      }
      forgetWatched(child);
      if (attempt >= 3)
        throw new Error(`docker-registry exited during start-up: ${fs.readFileSync(logFile, `utf8`).slice(-2000)}`);
    }
  } catch (error) {
    if (child !== undefined)
      await stopChild(child);
    await tokenServer?.stop();
    fs.rmSync(dir, {recursive: true, force: true});
    throw error;
  }
}
