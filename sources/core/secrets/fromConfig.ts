import {InputError} from '../errors.ts';
import type {CredentialHelperRunner} from '../ports.ts';
import type {DockerConfigEntry} from '../dockerconfig/parse.ts';
import {DOCKER_HUB_SERVER} from '../dockerconfig/serialize.ts';
import type {RegistryCredential} from './build.ts';
import {registryHost, registryKeyIdentity} from './registryKey.ts';

/** A local Docker config.json or Podman auth.json, reduced to what `add` needs. */
export type LocalRegistryConfig = {
  /** Where it was read from, for messages. */
  path: string;
  /** Entries of `auths`, decoded as the kubelet decodes them. */
  entries: DockerConfigEntry[];
  /** `credsStore`: the default credential helper suffix. */
  credsStore?: string;
  /** `credHelpers`: registry → helper suffix. */
  credHelpers: Record<string, string>;
};

/** ACR's username for AAD refresh tokens (docs/credential-rules.md R5.3). */
export const ACR_TOKEN_USERNAME = `00000000-0000-0000-0000-000000000000`;

/** The username credential helpers return for an identity token (docker-credential-helpers). */
const IDENTITY_TOKEN_USERNAME = `<token>`;

/** Reads `credsStore`/`credHelpers` from config.json text (already validated by the dockerconfig parser). */
export function readHelperSettings(text: string): {credsStore?: string; credHelpers: Record<string, string>} {
  let top: unknown;
  try {
    top = JSON.parse(text);
  } catch {
    return {credHelpers: {}};
  }
  if (typeof top !== `object` || top === null || Array.isArray(top))
    return {credHelpers: {}};
  const record = top as Record<string, unknown>;
  const credHelpers: Record<string, string> = {};
  if (typeof record.credHelpers === `object` && record.credHelpers !== null && !Array.isArray(record.credHelpers)) {
    for (const [host, helper] of Object.entries(record.credHelpers as Record<string, unknown>)) {
      if (typeof helper === `string` && helper !== ``)
        credHelpers[host] = helper;
    }
  }
  const credsStore = typeof record.credsStore === `string` && record.credsStore !== `` ? record.credsStore : undefined;
  return credsStore === undefined ? {credHelpers} : {credsStore, credHelpers};
}

/** True for Azure Container Registry hosts, whose identity tokens can be used as a password. */
function isAcrHost(key: string): boolean {
  return /\.azurecr\.(io|cn|us)$/.test(registryHost(key)) || /\.azurecr\.microsoftazure\.de$/.test(registryHost(key));
}

/**
 * Turns the registries of a local config into credentials a pull secret can hold: credential
 * helpers (`credHelpers`, else `credsStore`) are asked first, identity tokens become ACR's
 * null-GUID username or are refused, `registry-1.docker.io` keys are written as Docker Hub's
 * kubectl key, and any registry left without a username and password is refused by name
 * (the trap behind copying a credsStore config into a secret).
 */
export async function resolveConfigCredentials(config: LocalRegistryConfig, options: {registries?: string[]; runHelper: CredentialHelperRunner}): Promise<{credentials: RegistryCredential[]; notes: string[]}> {
  const byKey = new Map(config.entries.map(entry => [entry.key, entry]));
  const keys = [...new Set([...config.entries.map(entry => entry.key), ...Object.keys(config.credHelpers)])];
  let chosen = keys;
  if (options.registries && options.registries.length > 0) {
    chosen = [];
    for (const wanted of options.registries) {
      const matches = keys.filter(key => registryKeyIdentity(key) === registryKeyIdentity(wanted) || registryHost(key) === registryKeyIdentity(wanted));
      if (matches.length === 0)
        throw new InputError(`registry ${wanted} is not in ${config.path} (it has ${keys.length === 0 ? `no registries` : keys.join(`, `)})`);
      for (const match of matches) {
        if (!chosen.includes(match))
          chosen.push(match);
      }
    }
  }
  if (chosen.length === 0)
    throw new InputError(`${config.path} holds no registries; log in first (docker login / podman login) or give --docker-server and --docker-username`);
  const credentials: RegistryCredential[] = [];
  const notes: string[] = [];
  for (const key of chosen) {
    const entry = byKey.get(key);
    const helper = config.credHelpers[key] ?? config.credHelpers[registryHost(key)] ?? config.credsStore;
    let username = entry?.username ?? ``;
    let password = entry?.password ?? ``;
    let identityToken = entry?.identityToken;
    let from = `${config.path}`;
    if (helper !== undefined) {
      const answer = await options.runHelper(helper, key);
      if (answer) {
        from = `credential helper docker-credential-${helper}`;
        identityToken = undefined;
        if (answer.Username === IDENTITY_TOKEN_USERNAME) {
          username = ``;
          password = ``;
          identityToken = answer.Secret;
        } else {
          username = answer.Username;
          password = answer.Secret;
        }
      }
    }
    if (identityToken !== undefined && (username === `` || password === ``)) {
      if (!isAcrHost(key))
        throw new InputError(`registry ${key} (from ${from}) has only an identity token, which the kubelet never sends; log in with a username and password or token instead`);
      username = ACR_TOKEN_USERNAME;
      password = identityToken;
      notes.push(`note: registry ${key} has an identity token; writing it as ACR's token credential (username ${ACR_TOKEN_USERNAME})`);
    }
    if (username === `` || password === ``) {
      const where = helper === undefined ? `in ${config.path}` : `in ${config.path} or its credential helper docker-credential-${helper}`;
      throw new InputError(`registry ${key} has no usable username and password ${where}; a pull secret without them pulls anonymously (log in again, or leave it out with --registry)`);
    }
    let server = key;
    if (registryHost(key) === `registry-1.docker.io`) {
      server = DOCKER_HUB_SERVER;
      notes.push(`note: writing registry-1.docker.io credentials under ${DOCKER_HUB_SERVER}: the kubelet never matches registry-1.docker.io keys to Docker Hub images`);
    }
    const credential: RegistryCredential = {server, username, password};
    if (entry?.email)
      credential.email = entry.email;
    credentials.push(credential);
  }
  return {credentials, notes};
}
