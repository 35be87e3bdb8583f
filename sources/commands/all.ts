// Every command class, loaded together: for the full CLI (completion, "did you mean" after a typo, `help`),
// the README reference and the tests. A run that names its command loads only that one (commands/table.ts).
import type {CommandClass} from 'clipanion';
import type {PullSecretContext} from '../context.ts';
import {VersionCommand} from './version.ts';
import {CompleteCommand, CompletionCommand} from './completion.ts';
import {AddCommand} from './add.ts';
import {DecodeCommand} from './decode.ts';
import {ListCommand} from './list.ts';
import {VerifyCommand} from './verify.ts';
import {DoctorCommand} from './doctor.ts';
import {ExplainCommand} from './explain.ts';
import {AttachCommand} from './attach.ts';
import {DetachCommand} from './detach.ts';
import {SyncCommand} from './sync.ts';
import {RotateCommand} from './rotate.ts';
import {RemoveCommand} from './remove.ts';
import {RefreshCommand} from './refresh.ts';
import {AgentCommand} from './agent.ts';
import {InstallCommand} from './install.ts';

/** Every command of the plugin, in the order `--help` lists them. Add new commands here and in commands/table.ts. */
export const COMMANDS: Array<CommandClass<PullSecretContext>> = [
  AddCommand,
  AttachCommand,
  DetachCommand,
  SyncCommand,
  RotateCommand,
  RemoveCommand,
  RefreshCommand,
  AgentCommand,
  InstallCommand,
  ListCommand,
  DecodeCommand,
  ExplainCommand,
  VerifyCommand,
  DoctorCommand,
  CompletionCommand,
  VersionCommand,
  CompleteCommand,
  // commands:end
];
