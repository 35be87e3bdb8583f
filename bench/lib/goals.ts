// How a benchmark ends: each goal as a PASS or FAIL line, the bench's total time, and the exit code (1 when a goal
// is not met).

/** Prints the goals and the total time since `started` (performance.now()), and sets the exit code. */
export function reportGoals(goals: ReadonlyArray<readonly [string, boolean]>, started: number, log: (line: string) => void): void {
  for (const [goal, met] of goals)
    log(`${met ? `PASS` : `FAIL`} ${goal}`);
  log(`total bench time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = goals.every(([, met]) => met) ? 0 : 1;
}
