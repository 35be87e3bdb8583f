// A hostile Kubernetes API server on loopback: it forwards every request to an API emulator (plain HTTP, acting
// as admin) unless `intercept` answers it first, like an admission webhook or a misbehaving server would.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {startHostileServer} from './registry/hostileServer.ts';
import type {HostileServer, SeenRequest} from './registry/hostileServer.ts';

/** An answer: a JSON value, a string, or raw bytes (a Buffer, sent as is). */
export type Interception = {status: number; body: unknown; headers?: Record<string, string>};

export type HostileApi = HostileServer & {kubeconfigPath: string};

/** Starts the server; `upstream` is the emulator's `httpUrl` (started with `{plainHttp: true}`). */
export async function startHostileApi(upstream: string, intercept: (request: SeenRequest) => Interception | undefined): Promise<HostileApi> {
  const server = await startHostileServer((request, response) => {
    const answer = intercept(request);
    if (answer !== undefined) {
      const text = typeof answer.body === `string` || Buffer.isBuffer(answer.body) ? answer.body : JSON.stringify(answer.body);
      response.writeHead(answer.status, {'content-type': `application/json`, ...answer.headers});
      response.end(text);
      return;
    }
    return new Promise<void>((resolve, reject) => {
      const forwarded = http.request(new URL(request.path, upstream), {method: request.method, headers: {...request.headers, host: new URL(upstream).host}}, reply => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
        reply.on(`end`, resolve);
      });
      forwarded.on(`error`, reject);
      forwarded.end(request.body);
    });
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hostile-api-`));
  const kubeconfigPath = path.join(dir, `kubeconfig`);
  fs.writeFileSync(kubeconfigPath, JSON.stringify({
    apiVersion: `v1`, kind: `Config`, 'current-context': `hostile`,
    clusters: [{name: `hostile`, cluster: {server: server.url}}],
    users: [{name: `hostile`, user: {}}],
    contexts: [{name: `hostile`, context: {cluster: `hostile`, user: `hostile`}}],
  }));
  return {...server, kubeconfigPath, close: async () => {
    await server.close();
    fs.rmSync(dir, {recursive: true, force: true});
  }};
}

/**
 * A 422 `Status` quoting the refused values, as the API server's field validation (`data[.dockerconfigjson]:
 * Invalid value: "…"`) and webhooks that echo what they refuse do: every `data` value of the body (also inside a
 * patch), then the request body itself.
 */
export function echoingInvalid(request: SeenRequest, code = 422): Interception {
  const name = /\/secrets(?:\/([^/?]+))?/.exec(request.path)?.[1] ?? `x`;
  const quoted: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node !== `object` || node === null)
      return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === `data` || key === `stringData`) && typeof value === `object` && value !== null)
        quoted.push(...Object.entries(value).map(([field, text]) => `${key}[${field}]: Invalid value: ${JSON.stringify(text)}`));
      else
        walk(value);
    }
  };
  try {
    walk(JSON.parse(request.body));
  } catch {
    // not JSON: only the body is quoted
  }
  return {status: code, body: {kind: `Status`, apiVersion: `v1`, status: `Failure`, reason: code === 422 ? `Invalid` : `BadRequest`, code,
    message: `admission webhook "policy.example.com" denied the request: Secret "${name}" is invalid: [${quoted.join(`, `)}]; request: ${request.body}`}};
}
