import {Option, UsageError} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import type {ClusterSession, KubeObject} from '../core/ports.ts';
import {ExitCode} from '../core/errors.ts';
import {PULLSECRET_API_VERSION} from '../core/secrets/metadata.ts';
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../core/secrets/metadata.ts';
import {earliestExpiry} from '../core/secrets/describe.ts';
import {registryTokenExpiry} from '../core/secrets/expiry.ts';
import {sameRegistryKey} from '../core/secrets/registryKey.ts';
import {isRefreshable, refreshSecret} from '../core/refresh/refresh.ts';
import type {RefreshWindow, SecretRefresh} from '../core/refresh/refresh.ts';
import {fanOut} from '../core/fanout.ts';
import {printData} from '../adapters/output/printObjects.ts';
import {DEFAULT_COMMAND_TIMEOUT_MS} from './CredentialOptions.ts';
import {ScopedCommand} from './KubeCommand.ts';
import {parseDuration, parseOutput} from './options.ts';
import {compareText} from '../core/text.ts';

/** Refresh a token this close to its expiry by default: a CronJob every 10 h keeps 12-hour ECR tokens valid with room to spare. */
const DEFAULT_BEFORE = `3h`;

/** `kubectl pullsecret refresh`: re-run the recorded --password-command of secrets near expiry. */
export class RefreshCommand extends ScopedCommand {
  static override paths = [[`refresh`]];
  static override usage: Usage = {
    description: `re-run the recorded --password-command of pull secrets whose token is about to expire, and update their copies`,
    details: `
      Looks at the managed pull secrets (label app.kubernetes.io/managed-by=kubectl-pullsecret) that \`add\` or \`rotate\`
      wrote with --password-command (annotation pullsecret.kubectl.io/password-command) in the current namespace, -n NS,
      --namespaces, --namespace-selector or -A. A secret is due when its token expires within --before (default ${DEFAULT_BEFORE};
      ECR tokens carry their expiry, recorded as pullsecret.kubectl.io/expires-at) or, when no expiry is known, when its
      last refresh (pullsecret.kubectl.io/refreshed-at, else its creation) is older than --max-age. For each due secret the
      recorded command runs (sh -c, in this environment), the new password is written into the secret as \`rotate\` does,
      and then into every copy \`sync\` made of it.

      Each secret is reported as refreshed, unchanged (not due, or the command gave the same password) or failed. A command
      that fails (exit status, timeout) leaves the secret and its copies as they were; its stderr is shown, never its
      stdout. -o json|yaml prints a RefreshResult document. Exit code 1 when any secret failed.

      The commands run with the rights of whoever runs refresh: only people trusted to run commands there should be allowed
      to write these secrets.
    `,
    examples: [
      helpExample(`Refresh the secrets of the current namespace whose token expires within 3 hours`, [`refresh`]),
      helpExample(`Refresh every namespace, tokens expiring within 2 hours, and by age those without expiry`, [`refresh`, `-A`, `--before`, `2h`, `--max-age`, `12h`]),
      helpExample(`Refresh and print the results as JSON`, [`refresh`, `-n`, `platform`, `-o`, `json`]),
    ],
  };

  before = Option.String(`--before`, {description: `refresh a secret whose token expires within this duration (default ${DEFAULT_BEFORE})`});
  maxAge = Option.String(`--max-age`, {description: `refresh a secret without known expiry when its last refresh is older than this (e.g. 12h); default never`});
  passwordCommandTimeout = Option.String(`--password-command-timeout`, {description: `how long each recorded command may run before it is stopped (default 60s)`});
  output = Option.String(`-o,--output`, {description: `print the result document as json or yaml`});

  protected override allowsManyContexts(): boolean {
    return false;
  }

  async executeCommand() {
    const format = parseOutput(this.output, [`json`, `yaml`] as const);
    const window: RefreshWindow = {beforeMs: parseDuration(this.before ?? DEFAULT_BEFORE, `--before`)};
    if (this.maxAge !== undefined) {
      window.maxAgeMs = parseDuration(this.maxAge, `--max-age`);
      if (window.maxAgeMs <= 0)
        throw new UsageError(`--max-age must be longer than 0`);
    }
    const timeoutMs = this.passwordCommandTimeout === undefined ? DEFAULT_COMMAND_TIMEOUT_MS : parseDuration(this.passwordCommandTimeout, `--password-command-timeout`);
    const scope = this.namespaceScope();
    const session = await this.connect();
    const secrets = await this.refreshableSecrets(session);
    const {env, cwd} = this.context;
    const now = this.context.now();
    // Secrets one at a time: their commands may prompt a cloud CLI or share a rate-limited token endpoint.
    const outcomes = await fanOut(secrets, 1, secret => refreshSecret(session, secret, window, {
      now,
      runCommand: command => this.context.runPasswordCommand(command, {env, cwd, timeoutMs}),
      expiryOf: json => earliestExpiry(json, registryTokenExpiry),
      sameRegistry: sameRegistryKey,
      concurrency: this.workers,
      pacing: this.context,
    }));
    const results: SecretRefresh[] = outcomes.map(outcome => outcome.ok ? outcome.value : {
      namespace: outcome.item.metadata.namespace ?? ``, name: outcome.item.metadata.name, result: `failed`, reason: ``,
      error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error), expiresAt: null, copies: {updated: 0, unchanged: 0, failed: []},
    });
    const summary = {secrets: results.length, refreshed: 0, unchanged: 0, failed: 0};
    for (const result of results)
      summary[result.result]++;
    if (format !== undefined) {
      printData({apiVersion: PULLSECRET_API_VERSION, kind: `RefreshResult`, results, summary}, format, this.context.stdout);
    } else if (results.length === 0) {
      this.context.stderr.write(scope.kind === `current` ? `No secrets with a recorded --password-command found in ${session.namespace} namespace.\n` : `No secrets with a recorded --password-command found.\n`);
    }
    const prefixed = scope.kind !== `current`;
    for (const result of results) {
      const where = prefixed ? `${result.namespace}: ` : ``;
      if (result.result === `failed`) {
        this.context.stderr.write(`error: ${result.namespace}/${result.name}: ${result.error}\n`);
        continue;
      }
      if (format === undefined) {
        const copies = result.copies.updated > 0 ? `, ${result.copies.updated} cop${result.copies.updated === 1 ? `y` : `ies`} updated` : ``;
        this.context.stdout.write(`${where}secret/${result.name} ${result.result} (${result.reason}${copies})\n`);
      }
    }
    if (results.length > 1)
      this.context.stderr.write(`refresh: ${summary.refreshed} refreshed, ${summary.unchanged} unchanged, ${summary.failed} failed\n`);
    return summary.failed > 0 ? ExitCode.failure : ExitCode.ok;
  }

  /** The refreshable secrets in scope: one list (cluster-wide for -A, else per namespace), managed ones only. */
  private async refreshableSecrets(session: ClusterSession): Promise<KubeObject[]> {
    const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
    const {namespaces} = await this.resolveScope(session, this.namespaceScope());
    const wanted = new Set(namespaces);
    const listed = namespaces.length > 1
      ? await session.list(`secrets`, {labelSelector})
      : (await Promise.all(namespaces.map(namespace => session.list(`secrets`, {namespace, labelSelector})))).flat();
    return listed
      .filter(secret => wanted.has(secret.metadata.namespace ?? ``) && isRefreshable(secret))
      .sort((a, b) => compareText(a.metadata.namespace ?? ``, b.metadata.namespace ?? ``) || compareText(a.metadata.name, b.metadata.name));
  }
}
