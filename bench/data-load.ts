/**
 * Dataset load times: first load (decode the source files + write the decoded cache) and cached loads, for
 * Fashion-MNIST (when installed) and the embedded MNIST digits; plus the per-step cost of a batch stream and
 * gatherBatch at batch 128. Each run uses a fresh temporary cache folder, removed at the end.
 * Run: npx tsx bench/data-load.ts   (or, after `npm run build`: node dist/bench/data-load.js)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchStream } from '../src/core/data/batches.js';
import { gatherBatch } from '../src/core/data/splits.js';
import { loadSplits, tryLocateDataset } from '../src/node/data/load.js';
import { median } from '../src/core/util/stats.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'ml-bench-data-'));
const rows: Record<string, unknown>[] = [];
try {
  for (const name of ['fashion-mnist', 'mnist']) {
    const loc = tryLocateDataset(name, { cacheDir });
    if (loc === null) {
      console.log(JSON.stringify({ dataset: name, skipped: 'not available here' }));
      continue;
    }
    let t = performance.now();
    const first = loadSplits(name, { cacheDir });
    const firstMs = performance.now() - t;
    const cached: number[] = [];
    let trainN = 0;
    for (let k = 0; k < 5; k++) {
      t = performance.now();
      const r = loadSplits(name, { cacheDir });
      cached.push(performance.now() - t);
      if (!r.cached) throw new Error('expected a cache hit');
      trainN = r.train.n;
    }
    const row = {
      dataset: name,
      source: loc.source,
      train: trainN,
      test: first.test.n,
      firstLoadMs: Math.round(firstMs),
      cachedLoadMsMedian: Math.round(median(cached)),
      cachedLoadMsAll: cached.map(Math.round),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  // Per-step data cost at batch 128 (epoch shuffling + gather into preallocated buffers).
  const { train } = loadSplits(rows.length > 0 && rows[0]!.dataset === 'fashion-mnist' ? 'fashion-mnist' : 'mnist', { cacheDir });
  const B = 128;
  const pixels = train.images.length / train.n;
  const stream = new BatchStream({ n: train.n, batchSize: B, seed: 1 });
  const img = new Float32Array(B * pixels);
  const lab = new Int32Array(B);
  const steps = 5000;
  const t = performance.now();
  for (let s = 0; s < steps; s++) {
    const idx = stream.next();
    gatherBatch(train, idx, idx.length, img, lab);
  }
  const us = ((performance.now() - t) * 1000) / steps;
  console.log(JSON.stringify({ stepCost: 'BatchStream.next + gatherBatch', batch: B, pixels, usPerStep: Number(us.toFixed(1)), samplesPerSec: Math.round((B * 1e6) / us) }));
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
