// Small local HTTP(S) servers that misbehave on purpose (issue 7 §3): for what the real registry
// cannot do (slow answers, 429, 5xx, bad certificates, redirects, garbage). Loopback only.
import http from 'node:http';
import https from 'node:https';
import type {AddressInfo, Socket} from 'node:net';

/** A request as the server saw it. */
export type SeenRequest = {method: string; path: string; headers: http.IncomingHttpHeaders; body: string};

export type HostileServer = {
  /** `127.0.0.1:<port>` (or `localhost:<port>` when asked). */
  host: string;
  url: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
};

export type Handler = (request: SeenRequest, response: http.ServerResponse) => void | Promise<void>;

/** Starts a server on 127.0.0.1 with a random port; `tls` makes it HTTPS with the given key and certificate. */
export async function startHostileServer(handler: Handler, options: {tls?: {key: string; cert: string}; hostName?: string} = {}): Promise<HostileServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const listener = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on(`data`, (chunk: Buffer) => chunks.push(chunk));
    request.on(`end`, () => {
      const seen = {method: request.method ?? ``, path: request.url ?? ``, headers: request.headers, body: Buffer.concat(chunks).toString(`utf8`)};
      requests.push(seen);
      Promise.resolve(handler(seen, response)).catch(error => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  };
  const server = options.tls === undefined ? http.createServer(listener) : https.createServer({key: options.tls.key, cert: options.tls.cert}, listener);
  server.on(`connection`, socket => {
    sockets.add(socket);
    socket.on(`close`, () => sockets.delete(socket));
  });
  // TLS handshake failures on the server side are expected in these tests.
  server.on(`tlsClientError`, () => {});
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as AddressInfo;
  const host = `${options.hostName ?? `127.0.0.1`}:${port}`;
  return {
    host,
    port,
    url: `${options.tls === undefined ? `http` : `https`}://${host}`,
    requests,
    close: () => new Promise(resolve => {
      for (const socket of sockets)
        socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Sends a JSON answer. */
export function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {'content-type': `application/json`, 'content-length': Buffer.byteLength(text), ...headers});
  response.end(text);
}
