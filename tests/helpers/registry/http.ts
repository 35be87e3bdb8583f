// A tiny HTTP(S) client for the test harness itself (pushing images, readiness polls, mode tests).
// It is deliberately independent of the product's registry adapter, so the harness can judge it.
import http from 'node:http';
import https from 'node:https';

/** A buffered response; header names are lower-case, repeated headers kept as arrays. */
export type RawResponse = {status: number; headers: http.IncomingHttpHeaders; body: Buffer; text: string};

/** Sends one request (no redirects, no retries) and buffers the whole answer. */
export function rawRequest(url: string, options: {method?: string; headers?: Record<string, string>; body?: string | Buffer; ca?: string; timeoutMs?: number} = {}): Promise<RawResponse> {
  const target = new URL(url);
  const transport = target.protocol === `https:` ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(target, {
      method: options.method ?? `GET`,
      headers: {...options.headers, ...(options.body === undefined ? {} : {'content-length': String(Buffer.byteLength(options.body))})},
      ca: options.ca,
      agent: false,
      timeout: options.timeoutMs ?? 10_000,
    }, response => {
      const chunks: Buffer[] = [];
      response.on(`data`, (chunk: Buffer) => chunks.push(chunk));
      response.on(`error`, reject);
      response.on(`end`, () => {
        const body = Buffer.concat(chunks);
        resolve({status: response.statusCode ?? 0, headers: response.headers, body, text: body.toString(`utf8`)});
      });
    });
    request.on(`timeout`, () => request.destroy(new Error(`timed out: ${options.method ?? `GET`} ${url}`)));
    request.on(`error`, reject);
    request.end(options.body);
  });
}

/** `Authorization: Basic …` for a user and password. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString(`base64`)}`;
}

/** The Accept list a runtime sends on manifest requests (docs/testing.md A.1). */
export const MANIFEST_ACCEPT = [
  `application/vnd.oci.image.index.v1+json`,
  `application/vnd.oci.image.manifest.v1+json`,
  `application/vnd.docker.distribution.manifest.list.v2+json`,
  `application/vnd.docker.distribution.manifest.v2+json`,
].join(`, `);
