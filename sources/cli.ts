import {Builtins, Cli} from 'clipanion';
import type {CommandClass} from 'clipanion';
import type {PullSecretContext} from './context.ts';
import {ExitCode, oneLine} from './core/errors.ts';
import {VERSION} from './version.ts';
import {VersionCommand} from './commands/version.ts';
import {CompleteCommand, CompletionCommand} from './commands/completion.ts';
import {AddCommand} from './commands/add.ts';
import {DecodeCommand} from './commands/decode.ts';
import {ListCommand} from './commands/list.ts';
import {ExplainCommand} from './commands/explain.ts';
import {AttachCommand} from './commands/attach.ts';
import {DetachCommand} from './commands/detach.ts';
import {SyncCommand} from './commands/sync.ts';
import {RotateCommand} from './commands/rotate.ts';
import {RemoveCommand} from './commands/remove.ts';
import {VerifyCommand} from './commands/verify.ts';
import {DoctorCommand} from './commands/doctor.ts';

/** Every command of the plugin, in the order `--help` lists them. Add new commands here. */
export const COMMANDS: Array<CommandClass<PullSecretContext>> = [
  VersionCommand,
  AddCommand,
  DecodeCommand,
  ListCommand,
  CompletionCommand,
  CompleteCommand,
  ExplainCommand,
  AttachCommand,
  DetachCommand,
  SyncCommand,
  RotateCommand,
  RemoveCommand,
  VerifyCommand,
  DoctorCommand,
  // commands:end
];

/** Builds the clipanion CLI; colours only when stdout is a TTY and NO_COLOR is unset. */
export function buildCli(context: Pick<PullSecretContext, `env` | `stdout`>): Cli<PullSecretContext> {
  const cli = new Cli<PullSecretContext>({
    binaryLabel: `kubectl pullsecret`,
    binaryName: `kubectl pullsecret`,
    binaryVersion: VERSION,
    enableColors: Boolean(context.stdout.isTTY) && context.env.NO_COLOR === undefined && context.env.TERM !== `dumb`,
  });
  cli.register(Builtins.HelpCommand);
  for (const command of COMMANDS)
    cli.register(command);
  return cli;
}

/**
 * Runs the plugin with the given arguments. Parse errors go to stderr as one `error:` line (exit 2);
 * execution errors are handled by BaseCommand; `--help` prints usage on stdout.
 */
export async function runPullSecret(argv: string[], context: PullSecretContext): Promise<number> {
  const cli = buildCli(context);
  let command;
  try {
    command = cli.process(argv, context);
  } catch (error) {
    context.stderr.write(`error: ${describeParseError(error)}\nSee 'kubectl pullsecret --help' for usage.\n`);
    return ExitCode.usage;
  }
  return cli.run(command, context);
}

/** The first meaningful line of clipanion's parse error, without its multi-line candidate listing. */
function describeParseError(error: unknown): string {
  if (!(error instanceof Error))
    return String(error);
  const firstLine = error.message.split(`\n`).find(line => line.trim() !== ``) ?? error.message;
  if (error.name === `UnknownSyntaxError`) {
    const candidates = (error as Error & {candidates?: Array<{usage: string}>}).candidates ?? [];
    const best = candidates[0]?.usage;
    if (/^Command not found/.test(firstLine))
      return best ? `unknown command or arguments; did you mean "${best}"?` : `unknown command or arguments`;
    return oneLine(firstLine.replace(/^Unsupported option name/, `unknown flag`));
  }
  return oneLine(firstLine.replace(/^Invalid value for/, `invalid value for`));
}
