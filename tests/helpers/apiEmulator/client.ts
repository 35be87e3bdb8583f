/** A tiny HTTPS client for the emulator's semantic tests (raw requests, no client library in between). */
import https from 'node:https';
import http from 'node:http';
import type {ApiEmulator} from './index.ts';

export type Reply = {status: number; headers: http.IncomingHttpHeaders; text: string; json: any};

export type RequestOptions = {
  body?: unknown;
  /** Raw body bytes (e.g. protobuf); wins over `body`. */
  raw?: Buffer;
  contentType?: string;
  accept?: string;
  /** Bearer token; `null` sends none. Defaults to the admin token. */
  token?: string | null;
  /** Send over the plain-HTTP listener. */
  plain?: boolean;
};

/** Sends one request and parses the JSON reply (when it is JSON). */
export function request(api: ApiEmulator, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const base = new URL(opts.plain ? api.httpUrl! : api.url);
  const payload = opts.raw ?? (opts.body === undefined ? undefined : Buffer.from(typeof opts.body === `string` ? opts.body : JSON.stringify(opts.body)));
  const headers: Record<string, string> = {accept: opts.accept ?? `application/json`};
  if (payload) {
    headers[`content-type`] = opts.contentType ?? `application/json`;
    headers[`content-length`] = String(payload.length);
  }
  const token = opts.token === undefined ? api.tokens.admin : opts.token;
  if (token !== null)
    headers.authorization = `Bearer ${token}`;
  const mod = opts.plain ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request({hostname: base.hostname, port: base.port, path, method, headers, ...(opts.plain ? {} : {ca: api.caPem}), agent: false}, res => {
      const chunks: Buffer[] = [];
      res.on(`data`, c => chunks.push(c));
      res.on(`end`, () => {
        const text = Buffer.concat(chunks).toString(`utf8`);
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({status: res.statusCode ?? 0, headers: res.headers, text, json});
      });
      res.on(`error`, reject);
    });
    req.on(`error`, reject);
    req.end(payload);
  });
}
