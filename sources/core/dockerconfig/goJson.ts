/**
 * A small JSON reader that keeps what Go's encoding/json sees and JavaScript's JSON.parse loses:
 * the order of object members INCLUDING duplicates (Go applies them one after the other, so the
 * later one wins, and a repeated map field is merged), and Go's handling of lone surrogate escapes
 * (replaced by U+FFFD). Used only to decode pull-secret payloads the way the kubelet does.
 *
 * API: `parseGoJson(text)` → `{ok: true, value: JsonNode} | {ok: false, error}`; `kindName(node)`
 * names a node's JSON kind as Go's UnmarshalTypeError does ("string", "number", "object", ...).
 * Error messages name an offset, never the text around it (payloads hold passwords).
 */

/** A JSON value with object members kept in document order, duplicates included. */
export type JsonNode =
  | {kind: `object`; members: Array<[name: string, value: JsonNode]>}
  | {kind: `array`; items: JsonNode[]}
  | {kind: `string`; value: string}
  | {kind: `number`; raw: string}
  | {kind: `bool`; value: boolean}
  | {kind: `null`};

/** Go's decoder refuses documents nested deeper than this (encoding/json maxNestingDepth). */
const MAX_DEPTH = 10000;

class JsonSyntaxError extends Error {}

/** Parses one JSON document (surrounding whitespace allowed, nothing else). */
export function parseGoJson(text: string): {ok: true; value: JsonNode} | {ok: false; error: string} {
  const reader = new Reader(text);
  try {
    reader.skipSpace();
    const value = reader.value();
    reader.skipSpace();
    if (reader.pos < text.length)
      reader.fail(`unexpected data after the top-level value`);
    return {ok: true, value};
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      return {ok: false, error: error.message};
    throw error;
  }
}

/** The JSON kind as Go names it in "cannot unmarshal X into ...". */
export function kindName(node: JsonNode): string {
  return node.kind === `bool` ? `bool` : node.kind;
}

/** Go's strings.EqualFold-compatible key for matching JSON member names to struct fields. */
export function foldName(name: string): string {
  // encoding/json folds each rune to the smallest rune of its Unicode fold set; for ASCII field
  // names the only non-ASCII runes that fold onto ASCII letters are U+017F (ſ → S) and U+212A (K → K).
  let out = ``;
  for (const char of name) {
    if (char === `\u017f`)
      out += `S`;
    else if (char === `\u212a`)
      out += `K`;
    else if (char >= `a` && char <= `z`)
      out += char.toUpperCase();
    else
      out += char;
  }
  return out;
}

class Reader {
  pos = 0;
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  fail(message: string): never {
    throw new JsonSyntaxError(`invalid JSON at offset ${this.pos}: ${message}`);
  }

  skipSpace() {
    const {text} = this;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)
        this.pos++;
      else
        break;
    }
  }

  /** One JSON value, parsed with an explicit stack so that deep nesting cannot overflow the call stack. */
  value(): JsonNode {
    type Frame = {node: JsonNode & ({kind: `object`} | {kind: `array`}); name?: string};
    const stack: Frame[] = [];
    for (;;) {
      // Parse a value; containers push a frame and continue with their first member.
      let done: JsonNode;
      const c = this.text[this.pos];
      if (c === `{` || c === `[`) {
        if (stack.length + 1 > MAX_DEPTH)
          this.fail(`exceeded max depth`);
        this.pos++;
        this.skipSpace();
        const node: Frame[`node`] = c === `{` ? {kind: `object`, members: []} : {kind: `array`, items: []};
        const close = c === `{` ? `}` : `]`;
        if (this.text[this.pos] === close) {
          this.pos++;
          done = node;
        } else {
          const frame: Frame = {node};
          if (node.kind === `object`)
            frame.name = this.memberName();
          stack.push(frame);
          this.skipSpace();
          continue;
        }
      } else {
        done = this.scalar(c);
      }
      // Attach the finished value to its parents, closing every container that ends here.
      for (;;) {
        const frame = stack.at(-1);
        if (!frame)
          return done;
        if (frame.node.kind === `object`)
          frame.node.members.push([frame.name!, done]);
        else
          frame.node.items.push(done);
        this.skipSpace();
        const next = this.text[this.pos];
        const close = frame.node.kind === `object` ? `}` : `]`;
        if (next === `,`) {
          this.pos++;
          this.skipSpace();
          if (frame.node.kind === `object`) {
            frame.name = this.memberName();
            this.skipSpace();
          }
          break;
        }
        if (next !== close)
          this.fail(`expected ',' or '${close}' after ${frame.node.kind === `object` ? `object value` : `array element`}`);
        this.pos++;
        stack.pop();
        done = frame.node;
      }
    }
  }

  /** An object member's name and the colon after it. */
  memberName(): string {
    if (this.text[this.pos] !== `"`)
      this.fail(`expected a string object key`);
    const name = this.string();
    this.skipSpace();
    if (this.text[this.pos] !== `:`)
      this.fail(`expected ':' after object key`);
    this.pos++;
    this.skipSpace();
    return name;
  }

  scalar(c: string | undefined): JsonNode {
    switch (c) {
      case `"`: return {kind: `string`, value: this.string()};
      case `t`: this.literal(`true`); return {kind: `bool`, value: true};
      case `f`: this.literal(`false`); return {kind: `bool`, value: false};
      case `n`: this.literal(`null`); return {kind: `null`};
      case undefined: return this.fail(`unexpected end of JSON input`);
      default:
        if (c === `-` || (c >= `0` && c <= `9`))
          return {kind: `number`, raw: this.number()};
        return this.fail(`invalid character looking for beginning of value`);
    }
  }

  literal(word: string) {
    if (!this.text.startsWith(word, this.pos))
      this.fail(`invalid literal`);
    this.pos += word.length;
  }

  number(): string {
    const re = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    re.lastIndex = this.pos;
    const match = re.exec(this.text);
    if (!match || match[0] === `-`)
      this.fail(`invalid number`);
    this.pos += match[0].length;
    const next = this.text[this.pos];
    if (next !== undefined && /[0-9.eE+-]/.test(next))
      this.fail(`invalid number`);
    return match[0];
  }

  string(): string {
    const {text} = this;
    this.pos++; // opening quote
    let out = ``;
    let start = this.pos;
    for (;;) {
      if (this.pos >= text.length)
        this.fail(`unexpected end of JSON input in string`);
      const code = text.charCodeAt(this.pos);
      if (code === 0x22) {
        out += text.slice(start, this.pos);
        this.pos++;
        return wellFormed(out);
      }
      if (code < 0x20)
        this.fail(`invalid control character in string`);
      if (code !== 0x5c) {
        this.pos++;
        continue;
      }
      out += text.slice(start, this.pos);
      const esc = text[this.pos + 1];
      this.pos += 2;
      switch (esc) {
        case `"`: out += `"`; break;
        case `\\`: out += `\\`; break;
        case `/`: out += `/`; break;
        case `b`: out += `\b`; break;
        case `f`: out += `\f`; break;
        case `n`: out += `\n`; break;
        case `r`: out += `\r`; break;
        case `t`: out += `\t`; break;
        case `u`: {
          const hex = text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex))
            this.fail(`invalid \\u escape in string`);
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.pos -= 1;
          this.fail(`invalid escape in string`);
      }
      start = this.pos;
    }
  }
}

/** Replaces lone UTF-16 surrogates with U+FFFD, as Go does for `\\uD800`-style escapes. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, `\uFFFD`);
}
