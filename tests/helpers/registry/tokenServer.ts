// An in-process token server for docker-registry's `auth: token` mode (docs/testing.md A.3,
// docs/credential-rules.md R3.3–R3.5), using only node:http and node:crypto. It answers the spec's
// GET flow (Basic or anonymous) and the OAuth2 POST flow (password and refresh_token grants),
// grants the intersection of requested and configured actions, and records every request.
import crypto from 'node:crypto';
import http from 'node:http';
import type {AddressInfo} from 'node:net';

/** One token request as the server saw it (passwords are never recorded). */
export type TokenRequest = {method: string; user?: string; scope: string[]; service?: string};

export type TokenServerOptions = {
  /** The `service` the registry expects in `aud`. */
  service: string;
  issuer: string;
  /** PKCS#8 or SEC1 PEM of the EC P-256 signing key. */
  keyPem: string;
  users: Record<string, string>;
  /** user → repository glob → actions. */
  grants: Record<string, Record<string, string[]>>;
  /** Repository globs anyone (also anonymous) may pull. */
  anonymousPull: string[];
  /** When false, POST answers 404 like gcr.io, so clients must fall back to GET. Default true. */
  oauthPost?: boolean;
};

export type TokenServer = {
  realm: string;
  requests: TokenRequest[];
  /** Mints a token directly (no request recorded); the harness uses it to push. */
  mint(subject: string, access: Array<{type: string; name: string; actions: string[]}>): string;
  stop(): Promise<void>;
};

const base64url = (data: Buffer | string): string => Buffer.from(data).toString(`base64url`);

/** libtrust key ID: SHA-256 of the DER SubjectPublicKeyInfo, first 30 bytes, base32 without padding, groups of 4 joined by `:`. */
export function libtrustKeyId(publicKey: crypto.KeyObject): string {
  const der = publicKey.export({type: `spki`, format: `der`});
  const digest = crypto.createHash(`sha256`).update(der).digest().subarray(0, 30);
  const alphabet = `ABCDEFGHIJKLMNOPQRSTUVWXYZ234567`;
  let bits = 0;
  let value = 0;
  let out = ``;
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  // 240 bits is a multiple of 5: no remainder, no padding.
  return out.match(/.{4}/g)!.join(`:`);
}

/** `*` in a repository glob matches any run of characters, `/` included. */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob.split(`*`).map(part => part.replace(/[.+?^${}()|[\]\\]/g, `\\$&`)).join(`.*`);
  return new RegExp(`^${pattern}$`).test(name);
}

type Scope = {type: string; name: string; actions: string[]};

function parseScope(scope: string): Scope | null {
  // resourcetype[(class)]:name:actions — the name may itself contain `:` only with a port-less host; split from both ends.
  const first = scope.indexOf(`:`);
  const last = scope.lastIndexOf(`:`);
  if (first <= 0 || last === first)
    return null;
  return {type: scope.slice(0, first).replace(/\(.*\)$/, ``), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(`,`).filter(Boolean)};
}

/** Starts the token server on 127.0.0.1 with a random port. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const privateKey = crypto.createPrivateKey(options.keyPem);
  const kid = libtrustKeyId(crypto.createPublicKey(privateKey));
  const requests: TokenRequest[] = [];
  const refreshTokens = new Map<string, string>();

  const mint = (subject: string, access: Scope[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = {typ: `JWT`, alg: `ES256`, kid};
    const claims = {iss: options.issuer, sub: subject, aud: options.service, exp: now + 300, nbf: now - 1, iat: now, jti: crypto.randomUUID(), access};
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JOSE wants r‖s, not DER (the registry rejects a 71-byte DER signature).
    const signature = crypto.sign(`sha256`, Buffer.from(signingInput), {key: privateKey, dsaEncoding: `ieee-p1363`});
    return `${signingInput}.${base64url(signature)}`;
  };

  const allowed = (user: string | undefined, scope: Scope): string[] => {
    if (scope.type !== `repository`)
      return [];
    const actions = new Set<string>();
    if (options.anonymousPull.some(glob => globMatches(glob, scope.name)))
      actions.add(`pull`);
    for (const [glob, granted] of Object.entries(user === undefined ? {} : options.grants[user] ?? {})) {
      if (globMatches(glob, scope.name))
        for (const action of granted) actions.add(action);
    }
    return scope.actions.filter(action => actions.has(action) || actions.has(`*`));
  };

  const issue = (response: http.ServerResponse, user: string | undefined, scopes: string[], extra: Record<string, unknown> = {}) => {
    const access = scopes.map(parseScope).filter((scope): scope is Scope => scope !== null).map(scope => ({...scope, actions: allowed(user, scope)}));
    const token = mint(user ?? ``, access);
    send(response, 200, {token, access_token: token, expires_in: 300, issued_at: new Date().toISOString(), ...extra});
  };

  const checkPassword = (user: string, password: string): boolean => {
    const expected = options.users[user];
    return expected !== undefined && crypto.timingSafeEqual(crypto.createHash(`sha256`).update(expected).digest(), crypto.createHash(`sha256`).update(password).digest());
  };

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? `/`, `http://127.0.0.1`);
    if (url.pathname !== `/token`) {
      send(response, 404, {details: `not found`});
      return;
    }
    if (request.method === `GET`) {
      const scope = url.searchParams.getAll(`scope`).flatMap(value => value.split(` `)).filter(Boolean);
      const service = url.searchParams.get(`service`) ?? undefined;
      const basic = parseBasic(request.headers.authorization);
      requests.push({method: `GET`, user: basic?.user, scope, service});
      if (request.headers.authorization !== undefined && (basic === null || !checkPassword(basic.user, basic.password))) {
        send(response, 401, {details: `incorrect username or password`});
        return;
      }
      issue(response, basic?.user, scope);
      return;
    }
    if (request.method === `POST`) {
      readBody(request, 64 * 1024).then(body => {
        const form = new URLSearchParams(body);
        const scope = (form.get(`scope`) ?? ``).split(` `).filter(Boolean);
        const service = form.get(`service`) ?? undefined;
        const grantType = form.get(`grant_type`);
        const user = grantType === `password` ? form.get(`username`) ?? undefined : refreshTokens.get(form.get(`refresh_token`) ?? ``);
        requests.push({method: `POST`, user, scope, service});
        if (options.oauthPost === false) {
          send(response, 404, {details: `not found`});
          return;
        }
        if (form.get(`client_id`) === null || form.get(`client_id`) === ``) {
          send(response, 400, {error: `invalid_request`, error_description: `missing client_id`});
          return;
        }
        if (grantType === `password`) {
          if (user === undefined || !checkPassword(user, form.get(`password`) ?? ``)) {
            send(response, 401, {error: `invalid_grant`, error_description: `incorrect username or password`});
            return;
          }
        } else if (grantType === `refresh_token`) {
          if (user === undefined) {
            send(response, 401, {error: `invalid_grant`, error_description: `unknown refresh token`});
            return;
          }
        } else {
          send(response, 400, {error: `unsupported_grant_type`});
          return;
        }
        const extra: Record<string, unknown> = {scope: scope.join(` `)};
        if (form.get(`access_type`) === `offline`) {
          const refresh = crypto.randomBytes(24).toString(`hex`);
          refreshTokens.set(refresh, user);
          extra.refresh_token = refresh;
        }
        issue(response, user, scope, extra);
      }, () => send(response, 400, {error: `invalid_request`}));
      return;
    }
    send(response, 405, {details: `method not allowed`});
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    mint,
    stop: () => new Promise(resolve => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function parseBasic(header: string | undefined): {user: string; password: string} | null {
  if (header === undefined || !/^basic /i.test(header))
    return null;
  const decoded = Buffer.from(header.slice(6).trim(), `base64`).toString(`utf8`);
  const colon = decoded.indexOf(`:`);
  return colon < 0 ? null : {user: decoded.slice(0, colon), password: decoded.slice(colon + 1)};
}

function readBody(request: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on(`data`, (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit)
        request.destroy(new Error(`body too large`));
      else
        chunks.push(chunk);
    });
    request.on(`end`, () => resolve(Buffer.concat(chunks).toString(`utf8`)));
    request.on(`error`, reject);
  });
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {'content-type': `application/json`, 'content-length': Buffer.byteLength(text)});
  response.end(text);
}
