import {Command, Option, UsageError} from 'clipanion';
import type {PullSecretContext} from '../context.ts';
import {ExitCode, PullSecretError, oneLine} from '../core/errors.ts';

/**
 * The base of every command: runs `executeCommand()` and turns any error into one `error:` line on
 * stderr with a documented exit code (clipanion itself would print errors on stdout and exit 1).
 */
export abstract class BaseCommand extends Command<PullSecretContext> {
  verbose = Option.String(`-v,--verbose`, {
    tolerateBoolean: true,
    description: `print debug information (request log, stack traces); -v=N is accepted for kubectl parity`,
  });

  abstract executeCommand(): Promise<number | void>;

  /** True when `-v` (any level) was given. */
  get isVerbose(): boolean {
    return this.verbose !== undefined && this.verbose !== `0`;
  }

  async execute(): Promise<number> {
    try {
      return (await this.executeCommand()) ?? ExitCode.ok;
    } catch (error) {
      return this.reportError(error);
    }
  }

  /** Writes one `error:` line (plus a stack trace under `-v` for unexpected errors) and returns the exit code. */
  protected reportError(error: unknown): number {
    const {stderr} = this.context;
    if (error instanceof UsageError) {
      stderr.write(`error: ${oneLine(error.message)}\nSee 'kubectl pullsecret ${this.path.join(` `)} --help' for usage.\n`);
      return ExitCode.usage;
    }
    if (error instanceof PullSecretError) {
      stderr.write(`error: ${oneLine(error.message)}\n`);
      if (this.isVerbose && error.cause instanceof Error && error.cause.stack)
        stderr.write(`${error.cause.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`error: ${oneLine(message)}\n`);
    if (this.isVerbose && error instanceof Error && error.stack)
      stderr.write(`${error.stack}\n`);
    return ExitCode.failure;
  }
}
