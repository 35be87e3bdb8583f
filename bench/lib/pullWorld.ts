// The namespace every verify benchmark seeds: one pull secret holding basic credentials for each registry,
// referenced by the default ServiceAccount.
import type {ApiEmulator} from '../../tests/helpers/apiEmulator/index.ts';

/** The base64 `.dockerconfigjson` of one user and password for every host. */
export function dockerConfigFor(hosts: string[], username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString(`base64`);
  const auths = Object.fromEntries(hosts.map(host => [host, {username, password, auth}]));
  return Buffer.from(JSON.stringify({auths})).toString(`base64`);
}

/** Seeds `team-NNNN` with the `regcred` pull secret attached to its default ServiceAccount; returns its name. */
export function seedTeamNamespace(api: ApiEmulator, index: number, dockerconfigjson: string): string {
  const namespace = `team-${String(index).padStart(4, `0`)}`;
  api.seed.namespace(namespace);
  api.seed.secret(namespace, {metadata: {name: `regcred`}, type: `kubernetes.io/dockerconfigjson`, data: {'.dockerconfigjson': dockerconfigjson}});
  api.seed.serviceAccount(namespace, `default`, {imagePullSecrets: [`regcred`]});
  return namespace;
}
