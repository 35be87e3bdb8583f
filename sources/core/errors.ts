/**
 * The error taxonomy shared by every command (docs/design.md "Errors"):
 * - `UsageError` (from clipanion): the user's input is wrong → exit 2.
 * - `PullSecretError`: the environment is wrong (file missing, cluster unreachable, registry refused) → exit 1, or 3 when the cluster cannot be reached or refuses us.
 * - `Error('Assertion failed: …')`: a bug → exit 1, stack trace only with `-v`.
 */

/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  clusterUnreachable: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error caused by the environment rather than by a bug; printed as one `error:` line, never with a stack trace. */
export class PullSecretError extends Error {
  // clipanion prints errors carrying this marker without a stack trace.
  readonly clipanion = {type: `none` as const};
  readonly exitCode: ExitCodeValue;

  constructor(message: string, opts: {exitCode?: ExitCodeValue; cause?: unknown} = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause});
    this.name = `PullSecretError`;
    this.exitCode = opts.exitCode ?? ExitCode.failure;
  }
}

/** An input problem detected outside clipanion's own parsing (a malformed file, an invalid flag combination); exit 2. */
export class InputError extends PullSecretError {
  constructor(message: string, opts: {cause?: unknown} = {}) {
    super(message, {exitCode: ExitCode.usage, cause: opts.cause});
    this.name = `InputError`;
  }
}

/** The cluster could not be reached, or refused our credentials; exit 3. */
export class ClusterUnreachableError extends PullSecretError {
  constructor(message: string, opts: {cause?: unknown} = {}) {
    super(message, {exitCode: ExitCode.clusterUnreachable, cause: opts.cause});
    this.name = `ClusterUnreachableError`;
  }
}

/**
 * Any text as one printable line, so that every error stays a single `error:` line and a server's or a
 * registry's words cannot forge lines of their own: line breaks become `; `, other control characters and
 * runs of whitespace one space; with `maxLength`, longer text is cut and ends in `...`.
 */
export function oneLine(text: string, maxLength?: number): string {
  const flat = text.replace(/[ \t]*[\r\n]+\s*/g, `; `).replace(/[\u0000-\u001f\u007f\s]+/g, ` `).trim();
  return maxLength !== undefined && flat.length > maxLength ? `${flat.slice(0, maxLength - 3)}...` : flat;
}

/** The one-line message of anything thrown (API errors carry the server's message, never a request body). */
export function errorLine(error: unknown, maxLength?: number): string {
  return oneLine(error instanceof Error ? error.message : String(error), maxLength);
}
