import {Option, UsageError} from 'clipanion';
import {DOCKER_HUB_SERVER} from '../core/dockerconfig/serialize.ts';
import {InputError} from '../core/errors.ts';
import {invisibleCharacter} from '../core/text.ts';
import type {RegistryCredential} from '../core/secrets/build.ts';
import {parseDockerConfigFile} from '../core/dockerconfig/parse.ts';
import {readHelperSettings, resolveConfigCredentials} from '../core/secrets/fromConfig.ts';
import {INPUT_CAPS, defaultDockerConfigPath, defaultPodmanAuthPath, readAll, readUserFile, resolveUserPath, stripOneNewline} from '../adapters/local/files.ts';
import {promptHidden} from '../adapters/local/prompt.ts';
import {ScopedCommand} from './KubeCommand.ts';
import {parseDuration} from './options.ts';
import type {KubeObject} from '../core/ports.ts';
import {PASSWORD_COMMAND_ANNOTATION, REFRESHED_AT_ANNOTATION, commandsAfterWrite, refreshedAtStamp} from '../core/secrets/passwordCommand.ts';
import {sameRegistryKey} from '../core/secrets/registryKey.ts';

/** How long a `--password-command` may run by default (cloud CLIs may need a token exchange or two). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** docker login's warning for a password in argv, word for word, so users recognise it. */
export const PASSWORD_IN_ARGV_WARNING = `WARNING! Using --docker-password via the CLI is insecure. Use --docker-password-stdin.`;

/** Credentials read from the flags, plus lines to show the user (never containing secrets). */
export type CredentialsRead = {credentials: RegistryCredential[]; notes: string[]; warnings: string[]; source: string};

/**
 * The credential flags shared by `add` and `rotate`: kubectl's `--docker-*` flags, the password from
 * stdin, a file or a no-echo prompt, or whole entries from a Docker/Podman config with credential
 * helpers resolved. Call `readCredentials()` before contacting any cluster.
 */
export abstract class CredentialCommand extends ScopedCommand {
  dockerServer = Option.String(`--docker-server`, {description: `server location for the registry (default https://index.docker.io/v1/, as kubectl)`});
  dockerUsername = Option.String(`--docker-username`, {description: `username for registry authentication`});
  dockerEmail = Option.String(`--docker-email`, {description: `email for the registry (optional; not used for pulls)`});
  dockerPasswordStdin = Option.Boolean(`--docker-password-stdin`, false, {description: `read the password from stdin (one trailing newline is removed)`});
  dockerPasswordFile = Option.String(`--docker-password-file`, {description: `read the password from this file (one trailing newline is removed)`});
  dockerPassword = Option.String(`--docker-password`, {description: `password for registry authentication (insecure: visible to other users; prefer --docker-password-stdin)`});
  fromDockerConfig = Option.String(`--from-docker-config`, {tolerateBoolean: true, description: `take the registries from a Docker config.json (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json), resolving credsStore/credHelpers; give a path as --from-docker-config=PATH`});
  fromPodmanAuth = Option.String(`--from-podman-auth`, {tolerateBoolean: true, description: `take the registries from Podman's auth.json (default $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else ~/.config/containers/auth.json); give a path as --from-podman-auth=PATH`});
  registry = Option.Array(`--registry`, {description: `with --from-docker-config/--from-podman-auth: only this registry (repeatable)`});
  passwordCommand = Option.String(`--password-command`, {description: `run this command with sh -c and use what it prints on stdout as the password (e.g. aws ecr get-login-password); the command, never the password, is recorded on the secret for refresh`});
  passwordCommandTimeout = Option.String(`--password-command-timeout`, {description: `how long --password-command may run before it is stopped (default 60s)`});

  /**
   * The annotation fields of `planAddSecret` for a write of `credentials` into `existing`: the
   * password-command record (kept for other registries, replaced or dropped for these) and, when a command
   * gave the password, `refreshed-at` on a content change.
   */
  protected commandAnnotations(existing: KubeObject | null, credentials: RegistryCredential[], replace: boolean): {annotations: Record<string, string | null>; annotationsOnChange?: Record<string, string>} {
    const command = this.passwordCommand;
    const record = commandsAfterWrite(existing, credentials, command, {replace, sameRegistry: sameRegistryKey});
    const annotations: Record<string, string | null> = {[PASSWORD_COMMAND_ANNOTATION]: record};
    if (command === undefined) {
      // The password no longer comes from a command: an old stamp would mislead refresh --max-age.
      if (record === null)
        annotations[REFRESHED_AT_ANNOTATION] = null;
      return {annotations};
    }
    return {annotations, annotationsOnChange: refreshedAtStamp(this.context.now())};
  }

  /** Which local config the flags name, if any. */
  protected configSource(): {kind: `docker` | `podman`; path: string | undefined} | null {
    if (this.fromDockerConfig !== undefined && this.fromPodmanAuth !== undefined)
      throw new UsageError(`--from-docker-config and --from-podman-auth cannot be combined; run add once per file`);
    const value = this.fromDockerConfig ?? this.fromPodmanAuth;
    if (value === undefined)
      return null;
    const kind = this.fromDockerConfig !== undefined ? `docker` : `podman`;
    if (value === ``)
      throw new UsageError(`--from-${kind === `docker` ? `docker-config` : `podman-auth`} needs a path after "=", or no value for the default file`);
    return {kind, path: typeof value === `string` ? value : undefined};
  }

  /** Checks the flag combinations; throws a UsageError naming the conflict. */
  protected validateCredentialFlags(): void {
    const source = this.configSource();
    const passwordSources = [
      this.passwordCommand !== undefined && `--password-command`,
      this.dockerPassword !== undefined && `--docker-password`,
      this.dockerPasswordStdin && `--docker-password-stdin`,
      this.dockerPasswordFile !== undefined && `--docker-password-file`,
    ].filter((flag): flag is string => typeof flag === `string`);
    if (source) {
      const sourceFlag = source.kind === `docker` ? `--from-docker-config` : `--from-podman-auth`;
      const clash = [
        this.dockerUsername !== undefined && `--docker-username`,
        ...passwordSources,
        this.dockerServer !== undefined && `--docker-server`,
        this.dockerEmail !== undefined && `--docker-email`,
      ].filter(Boolean);
      if (clash.length > 0)
        throw new UsageError(`${sourceFlag} cannot be combined with ${clash.join(`, `)}: the credentials come from the file (use --registry HOST to pick registries)`);
      return;
    }
    if (this.passwordCommand !== undefined && this.passwordCommand.trim() === ``)
      throw new UsageError(`--password-command must not be empty: give the command that prints the password, e.g. --password-command 'aws ecr get-login-password --region us-east-1'`);
    if (this.passwordCommandTimeout !== undefined && this.passwordCommand === undefined)
      throw new UsageError(`--password-command-timeout only applies with --password-command`);
    if (this.registry !== undefined)
      throw new UsageError(`--registry only applies with --from-docker-config or --from-podman-auth; use --docker-server for a single registry`);
    if (passwordSources.length > 1)
      throw new UsageError(`${passwordSources.join(` and `)} cannot be combined; give the password one way`);
    if (this.dockerUsername === undefined)
      throw new UsageError(`missing --docker-username (or take the credentials from a local config with --from-docker-config)`);
    if (this.dockerUsername === ``)
      throw new UsageError(`--docker-username must not be empty`);
    for (const [flag, value] of [[`--docker-username`, this.dockerUsername], [`--docker-server`, this.dockerServer], [`--docker-email`, this.dockerEmail]] as const) {
      const problem = value === undefined ? undefined : invisibleCharacter(value);
      if (problem !== undefined)
        throw new UsageError(`${flag} ${problem}`);
    }
    // The kubelet reads the user from "auth" = base64(user:password), split at the first colon: "a:b" would log in as "a".
    if (this.dockerUsername.includes(`:`))
      throw new UsageError(`--docker-username must not contain ":": the kubelet splits the auth value at the first colon, so the registry would get a different user`);
    if (/\s/.test(this.dockerServer ?? ``))
      throw new UsageError(`--docker-server must not contain spaces: give a registry host such as ghcr.io or registry.example.com:5000`);
    if (this.dockerServer === ``)
      throw new UsageError(`--docker-server must not be empty`);
  }

  /** Reads the credentials the flags describe. Flag errors are UsageErrors, unreadable inputs InputErrors (exit 2). */
  protected async readCredentials(): Promise<CredentialsRead> {
    const read = await this.readCredentialsUnregistered();
    // From here on, no output of the run can show them (sources/core/redact.ts).
    for (const credential of read.credentials)
      this.context.redactor?.addCredential(credential.username, credential.password);
    return read;
  }

  private async readCredentialsUnregistered(): Promise<CredentialsRead> {
    this.validateCredentialFlags();
    const source = this.configSource();
    if (source)
      return this.readCredentialsFromConfig(source);
    const warnings: string[] = [];
    let password: string;
    if (this.passwordCommand !== undefined) {
      const timeoutMs = this.passwordCommandTimeout === undefined ? DEFAULT_COMMAND_TIMEOUT_MS : parseDuration(this.passwordCommandTimeout, `--password-command-timeout`);
      password = await this.context.runPasswordCommand(this.passwordCommand, {env: this.context.env, cwd: this.context.cwd, timeoutMs});
    } else if (this.dockerPassword !== undefined) {
      warnings.push(PASSWORD_IN_ARGV_WARNING);
      password = this.dockerPassword;
    } else if (this.dockerPasswordStdin) {
      password = stripOneNewline(await readAll(this.context.stdin, `the password on stdin`));
    } else if (this.dockerPasswordFile !== undefined) {
      const file = resolveUserPath(this.dockerPasswordFile, this.context.cwd, this.context.homedir);
      password = stripOneNewline(await readUserFile(file, `--docker-password-file`));
    } else if (this.context.stdin.isTTY && typeof this.context.stdin.setRawMode === `function`) {
      password = await promptHidden(this.context.stdin, this.context.stderr, `Password for ${this.dockerUsername}@${this.dockerServer ?? DOCKER_HUB_SERVER}: `);
    } else {
      throw new InputError(`no password given: use --docker-password-stdin, --docker-password-file or run in a terminal`);
    }
    if (password === ``)
      throw new InputError(`the password is empty: give the registry password or token on stdin or in the file`);
    // One trailing newline is removed above; any other invisible character would be stored and sent as part of it.
    const invisible = invisibleCharacter(password);
    if (invisible !== undefined)
      throw new InputError(`the password ${invisible}${this.dockerPasswordStdin || this.dockerPasswordFile !== undefined ? ` (after the one trailing newline that is removed)` : ``}`);
    const credential: RegistryCredential = {server: this.dockerServer ?? DOCKER_HUB_SERVER, username: this.dockerUsername!, password};
    if (this.dockerEmail)
      credential.email = this.dockerEmail;
    return {credentials: [credential], notes: [], warnings, source: `flags`};
  }

  /** Reads registries from a Docker config.json or Podman auth.json, asking credential helpers as Docker does. */
  protected async readCredentialsFromConfig(source: {kind: `docker` | `podman`; path: string | undefined}): Promise<CredentialsRead> {
    const {env, homedir, cwd} = this.context;
    const flag = source.kind === `docker` ? `--from-docker-config` : `--from-podman-auth`;
    const file = source.path !== undefined
      ? resolveUserPath(source.path, cwd, homedir)
      : source.kind === `docker` ? defaultDockerConfigPath(env, homedir) : defaultPodmanAuthPath(env, homedir);
    const text = await readUserFile(file, flag, {maxBytes: INPUT_CAPS.dockerConfig});
    const parsed = parseDockerConfigFile(text, file);
    const {credsStore, credHelpers} = readHelperSettings(text);
    const {credentials, notes} = await resolveConfigCredentials(
      {path: file, entries: parsed.entries, credsStore, credHelpers},
      {registries: this.registry, runHelper: (helper, serverUrl) => this.context.runCredentialHelper(helper, serverUrl, env)},
    );
    const debug = this.isVerbose ? parsed.warnings.map(warning => `debug: ${warning}`) : [];
    return {credentials, notes: [...debug, ...notes], warnings: [], source: file};
  }
}
