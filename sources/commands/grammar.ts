/**
 * The flag table of a clipanion command, read from its own option declarations, for the pflag grammar of
 * core/grammar.ts: one vocabulary, declared once in each command class.
 *
 * clipanion's `Option.*` helpers return descriptors whose `definition(builder, key)` declares the option to a
 * builder; calling it with a recording builder gives names and arity without parsing anything. A `Boolean`
 * declares `allowBinding: false`; a `String` with `tolerateBoolean` declares arity 0 and allows `=value`
 * (an optional value); every other option takes a value.
 */
import type {CommandClass} from 'clipanion';
import type {CommandGrammar, FlagSpec} from '../core/grammar.ts';

type OptionDeclaration = {names: string[]; arity?: number; allowBinding?: boolean};
type Descriptor = {definition: (builder: unknown, key: string) => void; transformer: unknown};

const grammars = new WeakMap<object, CommandGrammar | null>();

/** The grammar of a command class, or null for a command that takes its words unparsed (`__complete`). */
export function grammarOf(command: CommandClass<any>): CommandGrammar | null {
  const known = grammars.get(command);
  if (known !== undefined)
    return known;
  const flags: FlagSpec[] = [{names: [`-h`, `--help`], kind: `boolean`}];
  const positionals: CommandGrammar[`positionals`] = [];
  let rest: CommandGrammar[`rest`];
  let proxy = false;
  const builder = {
    addOption(option: OptionDeclaration) {
      const kind = (option.arity ?? 1) > 0 ? `value` : option.allowBinding === false ? `boolean` : `optional-value`;
      flags.push({names: option.names, kind});
    },
    addPositional(positional: {name: string; required?: boolean}) {
      positionals.push({name: positional.name, required: positional.required ?? true});
    },
    addRest(spec: {name: string; required?: number}) {
      rest = {name: spec.name, required: spec.required ?? 0};
    },
    addProxy() {
      proxy = true;
    },
  };
  const instance = new (command as unknown as new () => Record<string, unknown>)();
  for (const [key, value] of Object.entries(instance)) {
    const descriptor = value as Descriptor | null;
    if (typeof descriptor === `object` && descriptor !== null && typeof descriptor.definition === `function` && typeof descriptor.transformer === `function`)
      descriptor.definition(builder, key);
  }
  const [path = [], ...aliases] = command.paths ?? [];
  const grammar = proxy ? null : {path, aliases, flags, positionals, ...(rest === undefined ? {} : {rest})};
  grammars.set(command, grammar);
  return grammar;
}
