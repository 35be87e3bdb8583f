// How a run finds its command without loading the others: each command's first words and a loader. A run of
// `add` evaluates add's modules (and what they import) and nothing of verify, doctor or the agent; clipanion
// then builds its parser over that one command. tests/commands/table.test.ts checks this table against the
// commands' own `static paths` and `static invokes`, so the two cannot drift.
import type {CommandClass} from 'clipanion';
import type {PullSecretContext} from '../context.ts';

type Loaded = CommandClass<PullSecretContext>;

/** A command as the dispatcher knows it before loading it. */
export type CommandEntry = {
  /** The first word of each of the command's paths (`version`, `--version`). */
  words: string[];
  /** The first words of the commands it runs itself through `this.cli.run` (its `static invokes`). */
  invokes?: string[];
  /** Loads the command's module (the classes of completion.ts live together). */
  load: () => Promise<Loaded>;
};

/** In the order of commands/all.ts (COMMANDS). */
export const COMMAND_TABLE: CommandEntry[] = [
  {words: [`add`], load: async () => (await import('./add.ts')).AddCommand},
  {words: [`attach`], load: async () => (await import('./attach.ts')).AttachCommand},
  {words: [`detach`], load: async () => (await import('./detach.ts')).DetachCommand},
  {words: [`sync`], load: async () => (await import('./sync.ts')).SyncCommand},
  {words: [`rotate`], invokes: [`verify`], load: async () => (await import('./rotate.ts')).RotateCommand},
  {words: [`remove`], load: async () => (await import('./remove.ts')).RemoveCommand},
  {words: [`refresh`], load: async () => (await import('./refresh.ts')).RefreshCommand},
  {words: [`agent`], load: async () => (await import('./agent.ts')).AgentCommand},
  {words: [`install`], load: async () => (await import('./install.ts')).InstallCommand},
  {words: [`list`], load: async () => (await import('./list.ts')).ListCommand},
  {words: [`decode`], load: async () => (await import('./decode.ts')).DecodeCommand},
  {words: [`explain`], load: async () => (await import('./explain.ts')).ExplainCommand},
  {words: [`verify`], load: async () => (await import('./verify.ts')).VerifyCommand},
  {words: [`doctor`], load: async () => (await import('./doctor.ts')).DoctorCommand},
  {words: [`completion`], load: async () => (await import('./completion.ts')).CompletionCommand},
  {words: [`version`, `--version`], load: async () => (await import('./version.ts')).VersionCommand},
  {words: [`__complete`], load: async () => (await import('./completion.ts')).CompleteCommand},
];

/** Every command class (commands/all.ts), for the runs that need the whole CLI. */
export async function loadAllCommands(): Promise<Loaded[]> {
  return (await import('./all.ts')).COMMANDS;
}
