/**
 * Crash points for the crash-safety soak (bench/soak-sweep.ts): with MOMENTUM_LAB_CRASH_AT=POINT:N, the process
 * kills itself with SIGKILL the N-th time one thread reaches POINT — inside a results-store commit, or between a
 * checkpoint's fsync and its rename — so that the soak can land a kill exactly where a random one rarely does.
 * Unset (always, outside the soak), a crash point is one comparison.
 */
export type CrashPoint = 'store-commit' | 'atomic-rename';

const spec = /^(store-commit|atomic-rename):(\d+)$/.exec(process.env['MOMENTUM_LAB_CRASH_AT'] ?? '');
let reached = 0;

export function crashPoint(point: CrashPoint): void {
  if (spec === null || spec[1] !== point) return;
  if (++reached === Number(spec[2])) process.kill(process.pid, 'SIGKILL');
}
