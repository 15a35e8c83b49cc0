import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runSweep } from '../../src/experiments/index.js';
import { checkReportInBrowser, chromiumAvailable, CHROMIUM_PATH, writeReport, meanStd } from '../../src/report/index.js';
import { cliCommand, repoRoot, tempDir } from '../experiments/helpers.js';

/** A small sweep touching every chart: SGD vs SGDM over an lr grid (one diverging), 2 batch sizes, 2 SVAG levels, 2 seeds. */
async function makeStore(): Promise<string> {
  const d = tempDir('report');
  const db = join(d, 'results.db');
  await runSweep({
    name: 'report-test',
    task: 'synthetic',
    base: { steps: 40, evalEvery: 10, params: { train: 256, valid: 64, test: 64, dim: 8 } },
    grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.1, 1, 3000], batchSize: [8, 32], svag: [1, 2], seed: [0, 1] },
  }, { db, workers: 0 });
  return db;
}

test('meanStd uses the sample standard deviation (n−1)', () => {
  // 1, 2, 3: mean 2, variance ((1)+(0)+(1))/2 = 1
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1, n: 3 });
  assert.deepEqual(meanStd([5]), { mean: 5, std: 0, n: 1 });
});

test('report: HTML, SVG charts and tables; in headless Chromium no console errors, no network, every chart drawn', async (t) => {
  const db = await makeStore();
  const out = join(tempDir('report-out'), 'rep');
  const r = await writeReport(db, { outDir: out });
  // 2 forms × 3 lr × 2 B × 2 ℓ × 2 seeds = 48 runs, all finished (the lr = 3000 ones diverged).
  assert.equal(r.runs, 48);
  assert.deepEqual(r.omitted, []);
  const names = r.charts.map((c) => c.name);
  for (const n of ['curves-valid-loss', 'curves-train-loss', 'test-accuracy-vs-lr', 'best-test-accuracy-vs-batch', 'gap-test-accuracy-vs-svag']) {
    assert.ok(names.includes(n), `chart ${n} missing from ${names.join(', ')}`);
  }
  for (const c of r.charts) assert.match(readFileSync(c.svg, 'utf8'), /^<svg /);
  const html = readFileSync(r.html, 'utf8');
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/); // nothing to fetch at view time
  const md = readFileSync(join(out, 'tables', 'tables.md'), 'utf8');
  assert.match(md, /\| SGDM β=0\.9 \|/);
  assert.match(md, /diverged/);
  const csv = readFileSync(join(out, 'tables', 'runs.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 24); // header + 24 seed groups

  assert.ok(chromiumAvailable(), `no Chromium at ${CHROMIUM_PATH}: run ./scripts/setup-debian.sh`);
  const c = await checkReportInBrowser(r.html, { pngDir: join(out, 'charts') });
  assert.deepEqual(c.consoleErrors, []);
  assert.deepEqual(c.externalRequests, []);
  assert.deepEqual(Object.keys(c.marks).sort(), [...names].sort());
  for (const [name, n] of Object.entries(c.marks)) assert.ok(n > 0, `chart ${name} has no drawn marks`);
  // Curves: one line + one ± std band per setting (2 optimizers × 2 B × 2 ℓ = 8) ⇒ 16 marks.
  assert.equal(c.marks['curves-valid-loss'], 16);
  // Metric vs lr: per seed group (24) an error rule and a point, plus one line per setting (8) ⇒ 56.
  assert.equal(c.marks['test-accuracy-vs-lr'], 56);
  for (const p of c.pngs) {
    assert.ok(existsSync(p));
    assert.deepEqual([...readFileSync(p).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]); // PNG magic
  }
});

test('CLI: report DIR writes DIR/report/index.html; a folder without stores is a one-line error', async () => {
  const db = await makeStore();
  const dir = dirname(db);
  const ok = spawnSync(process.execPath, [...cliCommand(), 'report', dir], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /report: .*index\.html \(48 runs, 6 charts\)/);
  assert.ok(existsSync(join(dir, 'report', 'index.html')));
  const bad = spawnSync(process.execPath, [...cliCommand(), 'report', tempDir('empty')], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^error: report: no results store \(\*\.db\) in folder .*\n$/);
});
