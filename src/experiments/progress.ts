/**
 * Sweep progress: on a terminal, one live line per worker (bar, ETA, current metric) plus a totals line, redrawn in
 * place; elsewhere (CI logs, pipes) plain log lines when a run starts, passes each quarter, and finishes.
 */
import type { SweepProgress } from './sweep.js';

interface Lane { label: string; step: number; total: number; note: string; started: number }

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function progressBar(frac: number, width = 20): string {
  const f = Math.max(0, Math.min(1, frac));
  const full = Math.floor(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export interface ProgressWriter { write(s: string): unknown; isTTY?: boolean; columns?: number }

/** Returns an onProgress handler and a `done()` that prints the final state. */
export function progressReporter(out: ProgressWriter = process.stderr, tty = out.isTTY === true): { onProgress: (e: SweepProgress) => void; done: () => void } {
  const lanes = new Map<number, Lane>();
  let drawn = 0;
  let phase = '';
  let runs = 0;
  let finished = 0;
  let lastDraw = 0;
  const quarter = new Map<string, number>();
  let phaseStart = Date.now();
  let finishedAtStart = 0;
  let waiting = 0;
  const width = (): number => Math.max(60, (out.columns || 100) - 1);

  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const doneNow = finished - finishedAtStart;
    const left = runs - finished;
    const total = doneNow > 0 ? ` ETA ${formatDuration((((now - phaseStart) / 1000) / doneNow) * left)}` : '';
    const wait = waiting > 0 ? `, waiting for ${waiting} run(s) of another process` : '';
    const lines = [`${phase}: ${finished}/${runs} runs finished${total}${wait}`];
    for (const [w, l] of [...lanes.entries()].sort((a, b) => a[0] - b[0])) {
      const frac = l.total > 0 ? l.step / l.total : 0;
      const elapsed = (now - l.started) / 1000;
      const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
      lines.push(`w${w} ${progressBar(frac)} ${String(Math.round(frac * 100)).padStart(3)}% ETA ${formatDuration(eta)} ${l.note.padEnd(12)} ${l.label}`.slice(0, width()));
    }
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const line of lines) s += `\r\x1b[2K${line}\n`;
    out.write(s);
    drawn = lines.length;
  };

  const onProgress = (e: SweepProgress): void => {
    switch (e.type) {
      case 'phase':
        phase = e.phase;
        runs = e.runs;
        finished = e.finished;
        finishedAtStart = e.finished;
        waiting = 0;
        phaseStart = Date.now();
        if (!tty) out.write(`${e.phase}: ${e.runs} runs (${e.finished} already finished), ${e.workers} worker(s)\n`);
        break;
      case 'start':
        lanes.set(e.worker, { label: e.label, step: 0, total: 0, note: '', started: Date.now() });
        if (!tty) out.write(`w${e.worker} start ${e.hash} ${e.label}\n`);
        break;
      case 'step': {
        const l = lanes.get(e.worker);
        if (l !== undefined) {
          l.step = e.step;
          l.total = e.total;
          l.note = e.note ?? '';
        }
        if (!tty) {
          const q = Math.floor((4 * e.step) / Math.max(1, e.total));
          if (q > (quarter.get(e.hash) ?? 0) && q < 4) {
            quarter.set(e.hash, q);
            out.write(`w${e.worker} ${e.hash} step ${e.step}/${e.total} ${e.note ?? ''}\n`);
          }
        }
        break;
      }
      case 'note':
        out.write(`${tty && drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : ''}${e.message}\n`);
        drawn = 0;
        break;
      case 'wait':
        waiting = e.runs;
        if (!tty) out.write(`${e.phase}: waiting for ${e.runs} run(s) another process is executing, to select on every result\n`);
        break;
      case 'finish': {
        finished++;
        const l = lanes.get(e.worker);
        if (l !== undefined) { l.step = l.total; l.note = e.status; }
        if (!tty) {
          const m = e.summary['final/valid/loss'];
          out.write(`w${e.worker} ${e.status} ${e.hash} ${e.label}${m === undefined ? '' : ` valid/loss ${m.toPrecision(4)}`}${e.error === null ? '' : ` error: ${e.error}`}\n`);
        }
        break;
      }
    }
    if (tty) draw(e.type !== 'step');
  };
  return { onProgress, done: () => { if (tty) draw(true); } };
}
