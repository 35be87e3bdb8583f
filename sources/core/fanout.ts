/**
 * Bounded-concurrency fan-out with one result per item: commands that act on many namespaces (or
 * clusters, or images) run `work` on each, at most `concurrency` at a time, and report every item's
 * outcome instead of stopping at the first failure.
 */
import type {ClusterConnector, ClusterSession, ClusterTarget} from './ports.ts';

/** The outcome of one item, in input order. */
export type FanOutResult<T, R> =
  | {item: T; ok: true; value: R}
  | {item: T; ok: false; error: unknown};

/** Called after each item settles: how many are done, of how many, and which one just finished. */
export type FanOutProgress<T, R> = (done: number, total: number, result: FanOutResult<T, R>) => void;

/**
 * Runs `work` on every item with at most `concurrency` running at once. Results keep the input order;
 * the promise never rejects (a throwing `work` becomes `{ok: false, error}`; a throwing `onProgress` is ignored).
 */
export async function fanOut<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>, onProgress?: FanOutProgress<T, R>): Promise<Array<FanOutResult<T, R>>> {
  const results = new Array<FanOutResult<T, R>>(items.length);
  const workers = Math.max(1, Math.min(Number.isFinite(concurrency) ? Math.floor(concurrency) : 1, items.length));
  let next = 0;
  let done = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index]!;
      let result: FanOutResult<T, R>;
      try {
        result = {item, ok: true, value: await work(item, index)};
      } catch (error) {
        result = {item, ok: false, error};
      }
      results[index] = result;
      done++;
      try {
        onProgress?.(done, items.length, result);
      } catch {
        // Progress display must never break the work it reports on.
      }
    }
  };
  await Promise.all(Array.from({length: workers}, run));
  return results;
}

/** The writable side of a stream, as much as the progress line needs. */
export type ProgressStream = {write(chunk: string): unknown; isTTY?: boolean; columns?: number};

/** A one-line progress display on a terminal; does nothing when the stream is not a TTY (pipes and logs stay clean). */
export type ProgressLine = {
  /** Redraws the line, e.g. `update(3, 10)` → `syncing 3/10`. */
  update(done: number, total: number, note?: string): void;
  /** Erases the line (call before printing results). */
  clear(): void;
};

/** Creates a progress line on `stream` (normally the context's stderr) labelled `label`. */
export function progressLine(stream: ProgressStream, label: string): ProgressLine {
  if (!stream.isTTY)
    return {update: () => {}, clear: () => {}};
  let shown = false;
  return {
    update(done, total, note) {
      const text = `${label} ${done}/${total}${note ? ` ${note}` : ``}`;
      const width = Math.max(10, (stream.columns ?? 80) - 1);
      // \r returns to the line start and \x1b[K erases what a longer previous text left behind.
      stream.write(`\r${text.length > width ? text.slice(0, width) : text}\x1b[K`);
      shown = true;
    },
    clear() {
      if (shown)
        stream.write(`\r\x1b[K`);
      shown = false;
    },
  };
}

/** What one cluster (`--context`) gave: its value, or the error that stopped it. */
export type ContextOutcome<T> = {context: string; ok: true; value: T} | {context: string; ok: false; error: unknown};

/**
 * The one multi-context loop: opens a session per target and runs `work` on every cluster at once; outcomes come
 * back in the targets' order, a cluster that fails (unreachable, refused) as `{ok: false}` while the others go on.
 */
export async function forEachContext<T>(targets: readonly ClusterTarget[], connect: ClusterConnector, work: (session: ClusterSession, target: ClusterTarget) => Promise<T>): Promise<Array<ContextOutcome<T>>> {
  const outcomes = await fanOut(targets, targets.length, async target => work(await connect(target), target));
  return outcomes.map(outcome => (outcome.ok
    ? {context: outcome.item.context ?? ``, ok: true, value: outcome.value}
    : {context: outcome.item.context ?? ``, ok: false, error: outcome.error}));
}
