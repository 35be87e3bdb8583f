/** Text the user hands over (files, stdin), decoded as strictly as a password needs. */
import {InputError} from './errors.ts';

/**
 * Decodes bytes as UTF-8, refusing invalid sequences instead of silently turning them into U+FFFD
 * (a password or username with replacement characters would be stored wrong). The bytes never reach the message.
 */
export function decodeUtf8Text(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder(`utf-8`, {fatal: true, ignoreBOM: true}).decode(bytes);
  } catch {
    throw new InputError(`${what} is not valid UTF-8 text; save it as UTF-8`);
  }
}

/**
 * Orders text by UTF-16 code unit, which for the ASCII names Kubernetes allows is the byte order kubectl sorts by
 * (Go's string comparison). Unlike `localeCompare` it does not ignore punctuation (`a-c` sorts before `ab`, as in
 * kubectl) and it needs no ICU collator, whose first use cost a command 30-70 ms of start-up.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** C0 and C1 control characters, DEL, line/paragraph separators and the bidirectional overrides and isolates. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = {'\n': `\\n`, '\r': `\\r`, '\t': `\\t`, '\u001b': `\\e`};

/**
 * Text from a cluster or a registry (an image, an event message, a name, a registry's error), made safe for a
 * terminal: every control character is shown as an escape (`\e`, `\r`, `\n`, `\u202e`), so nothing can clear the
 * screen, set the window title, colour the output or forge rows and `fix:` lines. JSON and YAML escape on their own.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, char => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, `0`)}`);
}

/** Invisible characters a credential must not carry: controls, separators, zero-width characters and the BOM. */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;
const INVISIBLE_NAMES: Record<string, string> = {
  '\r': `a carriage return (\\r)`, '\n': `a line feed (\\n)`, '\t': `a tab (\\t)`, '\u0000': `a NUL byte`,
  '\ufeff': `a byte order mark (U+FEFF)`, '\u200b': `a zero-width space (U+200B)`,
};

/**
 * Why a credential value holds an invisible character, or undefined when it holds none: `"ends with a carriage return
 * (\r)"`. A carriage return is what a file with Windows line endings leaves after `$(cat file)` or one stripped
 * newline; stored, it makes the registry see another user or password. Never quotes the value.
 */
export function invisibleCharacter(value: string): string | undefined {
  const match = INVISIBLE.exec(value);
  if (match === null)
    return undefined;
  const char = match[0];
  const name = INVISIBLE_NAMES[char] ?? `the invisible character U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, `0`)}`;
  const where = match.index === value.length - 1 ? `ends with` : match.index === 0 ? `starts with` : `contains`;
  const hint = char === `\r` ? ` (a file with Windows line endings? remove them, e.g. with tr -d '\\r')` : ``;
  return `${where} ${name}${hint}`;
}
