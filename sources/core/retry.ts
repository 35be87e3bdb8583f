/**
 * The one optimistic-write loop, in the spirit of client-go's `retry.RetryOnConflict(backoff, fn)`: the caller
 * passes the backoff and a function that reads, plans and writes once; the helper owns the loop.
 *
 * - A conflict (HTTP 409: changed or created since it was read) runs the function again, which re-reads and
 *   re-plans, after a jittered pause; after `backoff.steps` attempts the last error is thrown.
 * - A create whose answer never came (no HTTP answer, or a 5xx: the session does not repeat a POST whose fate
 *   is unknown) is tried again up to `unknownOutcomeSteps` times, telling the function that its create may
 *   have landed: an identical object found then is the one it created (`created`, not `unchanged`). A create
 *   answered 409 AlreadyExists may be its own too (the session repeated it after a dropped connection).
 * - Anything else is thrown at once.
 *
 * Time and randomness come from the caller (`Pacing`), so that the core never starts a timer.
 */
import {isApiError} from './apiError.ts';

/** How the caller waits between attempts: injected (the clipanion context carries the real ones). */
export type Pacing = {
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1), for jitter. */
  random: () => number;
};

/** How often and how long to retry after a conflict. */
export type Backoff = {
  /** Attempts in all, the first included. */
  steps: number;
  /** Pause before attempt `attempt + 1`, from a random number in [0, 1). */
  delayMs: (attempt: number, random: number) => number;
};

/** What one attempt is told. */
export type WriteAttempt = {
  /** 1 for the first attempt. */
  attempt: number;
  /** A create sent by an earlier attempt got no answer: finding the object it would have made means it landed. */
  createMayHaveLanded: boolean;
  /** Marks the write about to be sent as a create (whose lost answer is retried, not reported). */
  creating: () => void;
};

/** What the loop needs besides the attempt itself. */
export type RetryOptions = {
  backoff: Backoff;
  pacing: Pacing;
  /** Retries of a create whose answer was lost (default 3). */
  unknownOutcomeSteps?: number;
  /** Extra errors to treat as a lost race (e.g. a JSON-patch `test` refused with 422); 409 always is. */
  isConflict?: (error: unknown) => boolean;
  /** The error thrown when conflicts outlast the backoff (default: the last conflict). */
  onExhausted?: (error: unknown, attempts: number) => unknown;
};

/** `steps` attempts with a random pause of up to 2^attempt ms, at most `capMs` (jitter spreads racing writers out). */
export function jitteredBackoff(steps: number, capMs: number): Backoff {
  return {steps, delayMs: (attempt, random) => Math.min(2 ** attempt, capMs) * random};
}

// Pause before re-checking a create whose answer was lost: long enough for a struggling server to recover.
function unknownOutcomeDelay(retry: number, random: number): number {
  return 100 * 2 ** retry * (0.5 + random);
}

/** True when a write failed without a definite answer: no HTTP status (reset, timeout) or a 5xx. */
export function isUnknownOutcome(error: unknown): boolean {
  return !isApiError(error) || error.code >= 500;
}

/** Runs `write` until it succeeds, retrying lost races and creates whose answer was lost, as described above. */
export async function retryOnConflict<T>(options: RetryOptions, write: (attempt: WriteAttempt) => Promise<T>): Promise<T> {
  const unknownOutcomeSteps = options.unknownOutcomeSteps ?? 3;
  let createMayHaveLanded = false;
  let unknownRetries = 0;
  for (let attempt = 1; ; attempt++) {
    let creating = false;
    try {
      return await write({attempt, createMayHaveLanded, creating: () => { creating = true; }});
    } catch (error) {
      if (creating && isUnknownOutcome(error) && unknownRetries < unknownOutcomeSteps) {
        unknownRetries++;
        createMayHaveLanded = true;
        await options.pacing.sleep(unknownOutcomeDelay(unknownRetries, options.pacing.random()));
        continue;
      }
      if (!isApiError(error, 409) && !(options.isConflict?.(error) ?? false))
        throw error;
      // A create answered AlreadyExists may be our own: the session repeats a POST whose connection dropped
      // before any answer began, and the first one may have been committed.
      if (creating)
        createMayHaveLanded = true;
      if (attempt >= options.backoff.steps)
        throw options.onExhausted === undefined ? error : options.onExhausted(error, attempt);
      await options.pacing.sleep(options.backoff.delayMs(attempt, options.pacing.random()));
    }
  }
}
