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
