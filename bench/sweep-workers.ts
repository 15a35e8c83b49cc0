/**
 * Sweep throughput: the same 8-run synthetic sweep (softmax regression d = 128, K = 10, 3000 steps each, B = 32, 15 checkpoints per
 * run) with 1 worker thread and with 2, into fresh stores; prints runs/s for each and the ratio (same process, so
 * the ratio is the number to compare across machines). Also the cost of the store: rows written per second.
 * Run: npx tsx bench/sweep-workers.ts   (or, after `npm run build`: node dist/bench/sweep-workers.js)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsStore, runSweep, type SweepConfigInput } from '../src/experiments/index.js';
import { installNodeHost } from '../src/node/host.js';
import { median } from '../src/core/util/stats.js';

installNodeHost();

const sweep: SweepConfigInput = {
  name: 'bench',
  task: 'synthetic',
  base: { steps: 3000, batchSize: 32, evalEvery: 100, checkpointEvery: 200, params: { dim: 128, classes: 10 } },
  grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.01, 0.03, 0.1, 0.3] },
};

const results: Record<string, number> = {};
for (const workers of [1, 2]) {
  const times: number[] = [];
  let rows = 0;
  for (let rep = 0; rep < 3; rep++) {
    const dir = mkdtempSync(join(tmpdir(), 'ml-bench-sweep-'));
    const db = join(dir, 'r.db');
    const t0 = performance.now();
    const r = await runSweep(sweep, { db, workers });
    times.push((performance.now() - t0) / 1000);
    const s = new ResultsStore(db, { readonly: true });
    rows = s.metrics().length;
    s.close();
    rmSync(dir, { recursive: true, force: true });
    if (r.executed !== 8) throw new Error(`expected 8 runs, executed ${r.executed}`);
  }
  const t = median(times);
  results[`workers${workers}_seconds`] = t;
  results[`workers${workers}_runs_per_s`] = 8 / t;
  results.metric_rows = rows;
}
results.speedup_2_over_1 = results.workers1_seconds! / results.workers2_seconds!;
console.log(JSON.stringify(results));
