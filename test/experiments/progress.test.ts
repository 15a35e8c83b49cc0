import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, progressBar, progressReporter } from '../../src/experiments/index.js';

test('progress bar and durations', () => {
  assert.equal(progressBar(0.5, 10), '[#####.....]');
  assert.equal(progressBar(2, 4), '[####]'); // clamped
  assert.equal(formatDuration(75), '01:15');
  assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
  assert.equal(formatDuration(NaN), '--:--');
});

test('not a TTY: plain log lines (start, each quarter, finish); TTY: one redrawn line per worker', () => {
  let plain = '';
  const p = progressReporter({ write: (s: string) => (plain += s), isTTY: false });
  p.onProgress({ type: 'phase', phase: 'grid', runs: 1, finished: 0, workers: 1 });
  p.onProgress({ type: 'start', worker: 0, hash: 'h', label: 'sgd η=0.1' });
  for (let s = 1; s <= 100; s++) p.onProgress({ type: 'step', worker: 0, hash: 'h', label: 'sgd η=0.1', step: s, total: 100, note: `loss ${s}` });
  p.onProgress({ type: 'finish', worker: 0, hash: 'h', label: 'sgd η=0.1', status: 'done', error: null, summary: { 'final/valid/loss': 0.5 } });
  p.done();
  const lines = plain.trim().split('\n');
  // phase + start + quarters at steps 25, 50, 75 + finish = 6 lines, no escape codes
  assert.equal(lines.length, 6);
  assert.doesNotMatch(plain, /\x1b/);
  assert.match(lines[5]!, /^w0 done h sgd η=0\.1 valid\/loss 0\.5000$/);

  let tty = '';
  const q = progressReporter({ write: (s: string) => (tty += s), isTTY: true, columns: 120 });
  q.onProgress({ type: 'phase', phase: 'grid', runs: 2, finished: 0, workers: 2 });
  q.onProgress({ type: 'start', worker: 0, hash: 'a', label: 'A' });
  q.onProgress({ type: 'start', worker: 1, hash: 'b', label: 'B' });
  q.done();
  // The last frame: cursor up over the previous 3 lines, then the totals line and one line per worker.
  const last = tty.slice(tty.lastIndexOf('\x1b[3A'));
  assert.equal((last.match(/\x1b\[2K/g) ?? []).length, 3);
  assert.match(last, /w0 \[\.{20}\]\s+0% ETA --:-- .*A\n/);
  assert.match(last, /w1 .*B\n/);
});
