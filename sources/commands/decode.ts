import {revealed} from '../adapters/output/redactingStream.ts';
import {Option, UsageError} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import type {Usage} from 'clipanion';
import {ExitCode, InputError, PullSecretError} from '../core/errors.ts';
import {PULLSECRET_API_VERSION} from '../core/secrets/metadata.ts';
import type {KubeObject} from '../core/ports.ts';
import {describePullSecret, maskSecret} from '../core/secrets/describe.ts';
import type {DecodedSecret} from '../core/secrets/describe.ts';
import {registryTokenExpiry} from '../core/secrets/expiry.ts';
import {readManifests} from '../adapters/manifests/read.ts';
import {asList, printData} from '../adapters/output/printObjects.ts';
import {formatTable} from '../core/table.ts';
import {KubeCommand} from './KubeCommand.ts';
import {parseOutput} from './options.ts';

/** The `apiVersion` of the documents `decode -o json|yaml` prints. */

/** `kubectl pullsecret decode NAME` / `decode -f FILE`: what a pull secret holds, masked unless --reveal. */
export class DecodeCommand extends KubeCommand {
  static override paths = [[`decode`]];
  static override usage: Usage = {
    description: `show what a pull secret holds and what the kubelet makes of it (passwords masked unless --reveal)`,
    details: `
      For each registry key: the key and its normalized form (as the kubelet matches it), the username, the password
      masked as "******** (N chars)", the email, whether "auth" agrees with username/password, identity tokens, and
      token expiry (ECR). Warnings point out what makes the kubelet ignore or misuse the secret. -f reads a Secret
      manifest (YAML or JSON; - for stdin) without a cluster. -o dockerconfig --reveal prints a Docker config.json
      usable with \`docker --config DIR\`.

      Exit status: 0 when every secret was decoded (warnings included); 1 when a secret is invalid (its content breaks
      the kubelet's lookup, which fails every pull of the pods referencing it) or not found; 2 for usage or input
      errors; 3 when the cluster is unreachable.
    `,
    examples: [
      helpExample(`Show a secret's registries, passwords masked`, [`decode`, `regcred`, `-n`, `web`]),
      helpExample(`Check a manifest before applying it`, [`decode`, `-f`, `regcred.yaml`]),
      helpExample(`Turn a secret into a Docker config to test it locally`, [`decode`, `regcred`, `-o`, `dockerconfig`, `--reveal`], {after: ` > cfg/config.json && docker --config cfg pull ghcr.io/acme/app:1`}),
    ],
  };

  name = Option.String({name: `NAME`, required: false});
  filename = Option.String(`-f,--filename`, {description: `read the Secret from a manifest file (YAML or JSON), - for stdin; no cluster needed`});
  reveal = Option.Boolean(`--reveal`, false, {description: `show passwords in clear text`});
  output = Option.String(`-o,--output`, {description: `json, yaml, or dockerconfig (with --reveal)`});

  async executeCommand() {
    const format = parseOutput(this.output, [`json`, `yaml`, `dockerconfig`] as const);
    if (format === `dockerconfig` && !this.reveal)
      throw new UsageError(`-o dockerconfig prints passwords in clear text (a Docker config cannot hold masked ones); add --reveal to confirm`);
    const secrets = await this.loadSecrets();
    const now = this.context.now();
    const decoded = secrets.map(secret => describePullSecret(secret as Parameters<typeof describePullSecret>[0], {now, expiryOf: registryTokenExpiry}));
    // --reveal asks for the passwords: that output bypasses redaction (sources/core/redact.ts).
    const stdout = this.reveal ? revealed(this.context.stdout) : this.context.stdout;
    if (format === `dockerconfig`) {
      stdout.write(`${dockerConfigFor(decoded)}\n`);
    } else if (format === `json` || format === `yaml`) {
      const documents = decoded.map(secret => decodedDocument(secret, this.reveal));
      printData(documents.length === 1 ? documents[0] : asList(documents), format, stdout);
    } else {
      stdout.write(decoded.map(secret => humanText(secret, this.reveal)).join(`\n`));
    }
    for (const secret of decoded) {
      const label = secret.namespace ? `${secret.namespace}/${secret.name}` : secret.name;
      for (const problem of secret.problems)
        this.context.stderr.write(`warning: ${label}: ${problem}\n`);
      for (const warning of secret.warnings)
        this.context.stderr.write(`warning: ${warning}\n`);
    }
    // A check before `kubectl apply` (decode -f) must fail on a secret the kubelet cannot use.
    return decoded.some(secret => secret.status === `invalid`) ? ExitCode.failure : ExitCode.ok;
  }

  /** The secrets to decode: from `-f` (every Secret in the file, or the one named), else from the cluster. */
  private async loadSecrets(): Promise<KubeObject[]> {
    if (this.filename !== undefined) {
      if (this.kubeContexts !== undefined || this.kubeconfig !== undefined)
        throw new UsageError(`-f reads a file and needs no cluster; leave out --kubeconfig/--context`);
      const objects = (await readManifests([this.filename], {cwd: this.context.cwd, stdin: this.context.stdin})).map(({object}) => object);
      let secrets = objects.filter(object => object.kind === `Secret`).map(withStringData);
      if (this.name !== undefined)
        secrets = secrets.filter(secret => secret.metadata.name === this.name);
      if (secrets.length === 0)
        throw new InputError(`${this.filename} holds no Secret${this.name === undefined ? `` : ` named "${this.name}"`}`);
      return secrets;
    }
    if (this.name === undefined)
      throw new UsageError(`give the secret's NAME, or -f FILE to read a manifest`);
    const session = await this.connect();
    const secret = await session.get(`secrets`, session.namespace, this.name);
    if (secret === null)
      throw new PullSecretError(`secret "${this.name}" not found in namespace "${session.namespace}"`);
    return [secret];
  }
}

/** Applies `stringData` over `data` as the API server does, so a manifest decodes as the stored secret would. */
function withStringData(object: KubeObject): KubeObject {
  const stringData = object.stringData;
  if (typeof stringData !== `object` || stringData === null)
    return object;
  const data = {...(object.data as Record<string, string> | undefined)};
  for (const [key, value] of Object.entries(stringData as Record<string, unknown>)) {
    if (typeof value === `string`)
      data[key] = Buffer.from(value, `utf8`).toString(`base64`);
  }
  return {...object, data};
}

/** What the kubelet does with the secret, in words. */
function verdict(secret: DecodedSecret): string {
  switch (secret.status) {
    case `ok`: return `the kubelet uses it`;
    case `ignored`: return `the kubelet IGNORES it`;
    case `invalid`: return `INVALID: pulls of pods referencing it fail`;
  }
}

/** The human view: one header line and a table of registries (passwords masked unless revealed). */
function humanText(secret: DecodedSecret, reveal: boolean): string {
  const label = secret.namespace ? `${secret.namespace}/${secret.name}` : secret.name;
  const header = `secret/${secret.name}${secret.namespace ? ` (namespace ${secret.namespace})` : ``}: type ${secret.type}, key ${secret.dataKey ?? `none`}; ${verdict(secret)}\n`;
  if (secret.entries.length === 0)
    return `${header}no registries in ${label}\n`;
  const rows = secret.entries.map(entry => [
    entry.key,
    entry.normalizedKey ?? `(invalid)`,
    entry.username === `` ? `<empty>` : entry.username,
    reveal ? entry.password : maskSecret(entry.password),
    entry.email ?? `-`,
    entry.auth,
    entry.identityToken ? `yes` : `no`,
    entry.expiresAt ? entry.expiresAt.toISOString().replace(/\.\d{3}Z$/, `Z`) : `-`,
  ]);
  return header + formatTable([`registry`, `normalized`, `username`, `password`, `email`, `auth`, `identity-token`, `expires`], rows);
}

/** The `-o json|yaml` document for one secret (schema in the README). */
export function decodedDocument(secret: DecodedSecret, reveal: boolean): Record<string, unknown> {
  return {
    apiVersion: PULLSECRET_API_VERSION,
    kind: `DecodedPullSecret`,
    name: secret.name,
    namespace: secret.namespace,
    type: secret.type,
    dataKey: secret.dataKey,
    status: secret.status,
    registries: secret.entries.map(entry => ({
      key: entry.key,
      normalizedKey: entry.normalizedKey,
      username: entry.username,
      password: reveal ? entry.password : maskSecret(entry.password),
      passwordLength: [...entry.password].length,
      revealed: reveal,
      email: entry.email,
      auth: entry.auth,
      identityToken: entry.identityToken,
      registryToken: entry.registryToken,
      expiresAt: entry.expiresAt ? entry.expiresAt.toISOString().replace(/\.\d{3}Z$/, `Z`) : null,
    })),
    warnings: secret.warnings,
    problems: secret.problems,
  };
}

/** A Docker config.json (tab-indented, as the docker CLI writes it) holding the effective credentials of the secrets. */
function dockerConfigFor(secrets: DecodedSecret[]): string {
  const auths: Record<string, Record<string, string>> = {};
  for (const secret of secrets) {
    for (const entry of secret.entries) {
      const item: Record<string, string> = {};
      if (entry.username !== `` || entry.password !== ``)
        item.auth = Buffer.from(`${entry.username}:${entry.password}`, `utf8`).toString(`base64`);
      if (entry.email)
        item.email = entry.email;
      auths[entry.key] = item;
    }
  }
  return JSON.stringify({auths}, null, `\t`);
}
