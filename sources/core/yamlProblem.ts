/**
 * YAML parse problems as one line that never quotes the document. The `yaml` package puts the offending token
 * into its messages (`Unresolved tag: !…`, `Unresolved alias …: …`, `Unexpected scalar token in YAML stream: "…"`),
 * and in a pull secret that token may be a password written unquoted (`password: *x…`, `!x…`, `|x…`).
 * Only the message's fixed part is kept, with the line and column, and a hint for the usual cause.
 */

/** A `YAMLError` (from `document.errors`) or an error thrown by `document.toJS()`. */
type YamlErrorLike = {message: string; code?: string; pos?: readonly [number, number]};

export function yamlProblem(text: string, error: YamlErrorLike): string {
  const first = (error.message.split(`\n`)[0] ?? ``).trim();
  if (/^Unresolved alias/.test(first))
    return `an alias (*NAME) refers to an anchor that is not defined; quote values that start with "*"`;
  // Everything after the first ": " is the offending source text.
  const fixed = first.split(`: `)[0]!.replace(/[\s.:]+$/, ``) || `syntax error`;
  const at = error.pos === undefined ? `` : ` (${position(text, error.pos[0])})`;
  return `${fixed}${at}${hint(error.code, first)}`;
}

function position(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split(`\n`).length;
  const column = offset - before.lastIndexOf(`\n`);
  return `line ${line}, column ${column}`;
}

function hint(code: string | undefined, message: string): string {
  if (code === `TAG_RESOLVE_FAILED` || /tag/i.test(message))
    return `; quote values that start with "!"`;
  if (/^Block scalar header/.test(message))
    return `; quote values that start with "|" or ">"`;
  return ``;
}
