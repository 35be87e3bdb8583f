/**
 * A fast reader for the block-style YAML that kubeconfigs are written in (what `kubectl config` and the cloud CLIs
 * write): mappings and sequences by indentation, plain and quoted one-line scalars, comments, `{}` and `[]`.
 * Everything else (flow collections, multi-line or escaped scalars, anchors, tags, numbers, duplicate keys, tabs,
 * several documents, anything malformed) makes it return `undefined`, and the caller parses with the `yaml` package.
 * Whatever it returns is exactly what `yaml`'s `parseDocument(text).toJS()` returns for the same text (YAML 1.2,
 * core schema), which a property test checks; it exists because the `yaml` parser, still cold when a command starts,
 * took 5-15 ms of every cluster command's start-up for a 2 KB kubeconfig.
 */

/** Thrown inside the reader when the text leaves the supported subset; never escapes this module. */
class Unsupported extends Error {}

type Line = {indent: number; text: string};

/** The top-level mapping of a block-style YAML text, or undefined when the text needs the full YAML parser. */
export function readBlockYaml(text: string): Record<string, unknown> | undefined {
  // Tabs, carriage returns, a BOM and control characters all have rules of their own: the full parser decides.
  if (/[\t\r\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufeff\u2028\u2029]/.test(text))
    return undefined;
  const lines: Line[] = [];
  for (const raw of text.split(`\n`)) {
    const content = raw.trimStart();
    if (content === `` || content.startsWith(`#`))
      continue;
    // Directives and document markers.
    if (raw.startsWith(`%`) || /^(---|\.\.\.)(\s|$)/.test(raw))
      return undefined;
    lines.push({indent: raw.length - content.length, text: content.trimEnd()});
  }
  if (lines.length === 0 || lines[0]!.indent !== 0 || isSequenceEntry(lines[0]!.text))
    return undefined;
  try {
    const reader = new Reader(lines);
    const value = reader.mapping(0);
    return reader.done() ? value : undefined;
  } catch (error) {
    if (error instanceof Unsupported)
      return undefined;
    throw error;
  }
}

const PLAIN_KEY = /^([A-Za-z_][A-Za-z0-9_.\/-]*):(?: +(.*))?$/;
/** Plain keys that core-schema resolution would turn into null or a boolean. */
const SPECIAL_PLAIN_KEYS = new Set([`null`, `Null`, `NULL`, `true`, `True`, `TRUE`, `false`, `False`, `FALSE`]);

/** `key: rest` with a plain or quoted key; undefined when the line is no such entry (or an unsupported one). */
function mappingEntry(text: string): {key: string; rest: string} | undefined {
  let key: string;
  let after: string;
  if (text[0] === `"` || text[0] === `'`) {
    const end = quotedEnd(text);
    key = quotedValue(text.slice(0, end));
    after = text.slice(end);
  } else {
    const match = PLAIN_KEY.exec(text);
    if (!match || SPECIAL_PLAIN_KEYS.has(match[1]!))
      return undefined;
    key = match[1]!;
    after = text.slice(key.length);
  }
  const entry = /^:(?: +(.*))?$/.exec(after);
  if (!entry || key === `__proto__`)
    return undefined;
  return {key, rest: entry[1] ?? ``};
}

function isSequenceEntry(text: string): boolean {
  return text === `-` || text.startsWith(`- `);
}

class Reader {
  private readonly lines: Line[];
  private index = 0;

  constructor(lines: Line[]) {
    this.lines = lines;
  }

  done(): boolean {
    return this.index === this.lines.length;
  }

  private peek(): Line | undefined {
    return this.lines[this.index];
  }

  /** The block that starts at the current line, indented `indent`. */
  private block(indent: number): unknown {
    return isSequenceEntry(this.peek()!.text) ? this.sequence(indent) : this.mapping(indent);
  }

  mapping(indent: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (let line = this.peek(); line !== undefined && line.indent === indent && !isSequenceEntry(line.text); line = this.peek()) {
      const entry = mappingEntry(line.text);
      if (!entry || Object.hasOwn(result, entry.key))
        throw new Unsupported();
      this.index++;
      if (entry.rest === `` || entry.rest.startsWith(`#`)) {
        const next = this.peek();
        if (next !== undefined && (next.indent > indent || (next.indent === indent && isSequenceEntry(next.text))))
          result[entry.key] = this.block(next.indent);
        else
          result[entry.key] = null;
      } else {
        result[entry.key] = scalar(entry.rest);
        this.noContinuation(indent);
      }
    }
    return result;
  }

  private sequence(indent: number): unknown[] {
    const result: unknown[] = [];
    for (let line = this.peek(); line !== undefined && line.indent === indent && isSequenceEntry(line.text); line = this.peek()) {
      const rest = line.text.slice(1).trimStart();
      if (rest === `` || rest.startsWith(`#`)) {
        this.index++;
        const next = this.peek();
        result.push(next !== undefined && next.indent > indent ? this.block(next.indent) : null);
      } else if (isSequenceEntry(rest) || mappingEntry(rest)) {
        // A compact nested block (`- name: x` or `- - x`): the entry's content starts a block at its own column.
        const column = indent + line.text.length - rest.length;
        this.lines[this.index] = {indent: column, text: rest};
        result.push(this.block(column));
      } else {
        this.index++;
        result.push(scalar(rest));
        this.noContinuation(indent);
      }
    }
    return result;
  }

  /** A more indented line after a one-line scalar would continue it (a multi-line scalar): not supported. */
  private noContinuation(indent: number): void {
    const next = this.peek();
    if (next !== undefined && next.indent > indent)
      throw new Unsupported();
  }
}

const INT = /^[-+]?[0-9]+$/;
const INT_OCT = /^0o[0-7]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/** One scalar written on one line after `key: ` or `- ` (comments allowed after it). */
function scalar(text: string): unknown {
  const first = text[0]!;
  if (first === `"` || first === `'`)
    return quoted(text);
  if (text === `{}` || text === `[]` || /^(\{\}|\[\]) +#/.test(text))
    return text[0] === `{` ? {} : [];
  // Indicators that start flow collections, anchors, aliases, tags, block scalars, directives, or nested entries.
  if (`,[]{}#&*!|>%@\``.includes(first) || (`?:-`.includes(first) && (text.length === 1 || text[1] === ` `)))
    throw new Unsupported();
  const comment = text.indexOf(` #`);
  const value = (comment < 0 ? text : text.slice(0, comment)).trimEnd();
  // `a: b` in a value is a nested mapping (an error in YAML); a trailing `:` likewise.
  if (value.includes(`: `) || value.endsWith(`:`))
    throw new Unsupported();
  if (/^(?:~|[Nn]ull|NULL)$/.test(value))
    return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(value))
    return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(value))
    return false;
  // Numbers are rare in kubeconfigs; the full parser resolves them.
  if (INT.test(value) || INT_OCT.test(value) || INT_HEX.test(value) || FLOAT.test(value) || FLOAT_EXP.test(value) || FLOAT_NAN.test(value))
    throw new Unsupported();
  return value;
}

/** A single- or double-quoted scalar that closes on its line (a comment may follow); double quotes only without escapes. */
function quoted(text: string): string {
  const end = quotedEnd(text);
  const after = text.slice(end);
  if (after !== `` && !/^ +(#.*)?$/.test(after))
    throw new Unsupported();
  return quotedValue(text.slice(0, end));
}

/** Where the quoted scalar at the start of `text` ends (after its closing quote). */
function quotedEnd(text: string): number {
  const quote = text[0]!;
  for (let index = 1; ;) {
    const close = text.indexOf(quote, index);
    if (close < 0)
      throw new Unsupported();
    if (quote === `'` && text[close + 1] === `'`) {
      index = close + 2;
      continue;
    }
    if (quote === `"` && text.slice(1, close).includes(`\\`))
      throw new Unsupported();
    return close + 1;
  }
}

/** The value of a whole quoted scalar, quotes included in `token`. */
function quotedValue(token: string): string {
  const inner = token.slice(1, -1);
  return token[0] === `'` ? inner.replaceAll(`''`, `'`) : inner;
}
