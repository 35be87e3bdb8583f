// When a command line asks for the overview, and the overview the build rendered: shared by the CLI (cli.ts) and the
// single executable's main script (seaMain.ts), which prints it without loading the bundle at all.

/** The overview text, rendered at build time from the commands' own declarations (scripts/lib/sea.ts); undefined when running from the sources. */
declare const __PULLSECRET_OVERVIEW__: string | undefined;

/** The overview rendered by the build, if this is a build. */
export const BUILT_OVERVIEW: string | undefined = typeof __PULLSECRET_OVERVIEW__ === `string` ? __PULLSECRET_OVERVIEW__ : undefined;

/** The plugin's arguments: kubectl runs `kubectl_complete-pullsecret <args…>` (a symlink to the binary) to complete `kubectl pullsecret …`. */
export function pluginArguments(invokedAs: string, args: string[]): string[] {
  return invokedAs.replace(/\.(exe|cmd)$/i, ``) === `kubectl_complete-pullsecret` ? [`__complete`, ...args] : args;
}

/** True for `kubectl pullsecret`, `-h`, `--help` and `help`: the overview, as kubectl prints its own. */
export function asksForOverview(argv: readonly string[]): boolean {
  return argv.length === 0 || (argv.length === 1 && (argv[0] === `-h` || argv[0] === `--help` || argv[0] === `help`));
}
