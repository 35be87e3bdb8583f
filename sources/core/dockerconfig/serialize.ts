/**
 * Writing `.dockerconfigjson` exactly as `kubectl create secret docker-registry` does
 * (kubectl pkg/cmd/create/create_secret_docker.go, encoded with Go's encoding/json).
 */

import {wellFormed} from './goJson.ts';

/** Same default as `kubectl create secret docker-registry`, so both tools produce identical secrets. */
export const DOCKER_HUB_SERVER = `https://index.docker.io/v1/`;

/** One registry entry as kubectl writes it. */
export type DockerConfigEntryInput = {
  username: string;
  password: string;
  email?: string;
};

/**
 * JSON.stringify with Go's HTML escaping: Go's encoder writes `<`, `>`, `&`, U+2028 and U+2029
 * as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`; JavaScript leaves them raw.
 * Text that is not valid Unicode (a lone UTF-16 surrogate, which JavaScript would write as a `\ud800`
 * escape) is written as U+FFFD, as Go's encoder does for invalid UTF-8.
 */
export function goJsonStringify(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === `string` ? wellFormed(item) : item)).replace(/[<>&\u2028\u2029]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, `0`)}`);
}

/** base64 of `username:password` in UTF-8 (a lone surrogate becomes U+FFFD's bytes), as kubectl computes the `auth` field. */
export function encodeAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, `utf8`).toString(`base64`);
}

/**
 * The `.dockerconfigjson` bytes kubectl writes for these registries. Go's encoder sorts map keys
 * by bytes, so entries are written sorted by server; fields come in the order username, password,
 * email (omitted when empty), auth. Built by hand so that numeric-looking keys keep Go's order.
 */
export function serializeDockerConfigJson(auths: Array<[server: string, entry: DockerConfigEntryInput]>): string {
  const sorted = [...new Map(auths).entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a, `utf8`), Buffer.from(b, `utf8`)));
  const entries = sorted.map(([server, {username, password, email}]) => {
    const fields: Array<[string, string]> = [[`username`, username], [`password`, password]];
    if (email)
      fields.push([`email`, email]);
    fields.push([`auth`, encodeAuth(username, password)]);
    return `${goJsonStringify(server)}:{${fields.map(([key, value]) => `"${key}":${goJsonStringify(value)}`).join(`,`)}}`;
  });
  return `{"auths":{${entries.join(`,`)}}}`;
}
