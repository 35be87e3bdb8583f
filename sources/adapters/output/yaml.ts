import {Document, isScalar, parse, visit} from 'yaml';
import type {Pair} from 'yaml';

/**
 * Orders map keys the way kubectl's YAML (sigs.k8s.io/yaml over go-yaml v2) does: rune by rune,
 * non-letters before letters, and runs of digits compared as numbers (`item2` before `item10`).
 */
export function compareYamlKeys(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i])
      continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl)
      return ar[i]!.codePointAt(0)! - br[i]!.codePointAt(0)!;
    if (al || bl)
      return al ? 1 : -1;
    // Both are non-letters: compare whole digit runs numerically.
    let an = 0n;
    let bn = 0n;
    if (ar[i] === `0` || br[i] === `0`) {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== `0`) {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++)
      an = an * 10n + BigInt(ar[ai]!.charCodeAt(0) - 48);
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]!); bi++)
      bn = bn * 10n + BigInt(br[bi]!.charCodeAt(0) - 48);
    if (an !== bn)
      return an < bn ? -1 : 1;
    if (ai !== bi)
      return ai - bi;
    return ar[i]!.codePointAt(0)! - br[i]!.codePointAt(0)!;
  }
  return ar.length - br.length;
}

function isLetter(char: string): boolean {
  return /\p{L}/u.test(char);
}

function isDigit(char: string): boolean {
  return char >= `0` && char <= `9`;
}

/**
 * Renders a JSON value as kubectl renders YAML: sorted keys, 2-space indent, sequences not
 * indented under their key, `null` for null, literal blocks for multi-line strings, no line folding.
 */
export function toKubectlYaml(value: unknown): string {
  // YAML 1.1 rules, as go-yaml v2: `yes`, `on`, `off` are quoted because 1.1 readers take them as booleans.
  const document = new Document(value, {
    version: `1.1`,
    sortMapEntries: (a: Pair, b: Pair) => compareYamlKeys(keyText(a.key), keyText(b.key)),
  });
  // go-yaml double-quotes strings that would read back as another type (`"true"`, `"123"`) and
  // single-quotes the ones that merely need quoting (`'a: b'`).
  visit(document, {
    Scalar(_key, node) {
      if (typeof node.value === `string` && !node.value.includes(`\n`) && readsAsOtherType(node.value))
        node.type = `QUOTE_DOUBLE`;
    },
  });
  return document.toString({indentSeq: false, lineWidth: 0, minContentWidth: 0, blockQuote: `literal`, nullStr: `null`, singleQuote: true});
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function readsAsOtherType(text: string): boolean {
  if (text === ``)
    return true;
  try {
    const value: unknown = parse(text, {version: `1.1`});
    return value === null || [`number`, `boolean`, `bigint`].includes(typeof value) || value instanceof Date;
  } catch {
    return false;
  }
}
