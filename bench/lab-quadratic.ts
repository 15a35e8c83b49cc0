/**
 * The lab's noisy quadratic in the browser vs the Node theory simulator, in one run: chain-steps per second of the
 * same `simulate` call (normalised SGDM, β = 0.9, one thread, the normals WebAssembly loaded on both sides), the
 * page in Debian's headless Chromium served by `momentum-lab lab`. Also the size of the built lab (dist/lab).
 *
 *   npm run build && node dist/bench/lab-quadratic.js [--chains 4000] [--steps 2000] [--repeats 5]
 *
 * Each figure is the best of `repeats` runs, chains × steps / wall seconds.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { optimizerConfig } from '../src/core/optim/index.js';
import { diagonalQuadratic } from '../src/core/theory/problems.js';
import { simulate } from '../src/core/theory/simulate.js';
import { installNodeHost } from '../src/node/host.js';
import { packageRoot } from '../src/node/package-root.js';
import { openLab } from '../test/lab/page.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

function sizes(dir: string): { total: number; files: [string, number][] } {
  const files: [string, number][] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p); else files.push([p.slice(dir.length + 1), statSync(p).size]);
    }
  };
  walk(dir);
  return { total: files.reduce((s, [, n]) => s + n, 0), files: files.sort((a, b) => b[1] - a[1]) };
}

const chains = arg('chains', 4000), steps = arg('steps', 2000), repeats = arg('repeats', 5);
const req = { eta: 0.1, beta: 0.9, lambda: 1, s: 1, chains, steps, seed: 1 };

installNodeHost();
let node = 0;
for (let r = 0; r < repeats; r++) {
  const sums = new Float64Array(chains), from = Math.floor(steps / 2);
  const t0 = performance.now();
  simulate({
    problem: diagonalQuadratic([req.lambda], req.s), chains, x0: [0], runs: [optimizerConfig({ form: 'normalized', lr: req.eta, momentum: req.beta })], steps, seed: req.seed, threads: 1,
    observe(k, xs) {
      if (k <= from) return;
      for (let c = 0; c < chains; c++) sums[c] = sums[c]! + 0.5 * xs[0]![c]! * xs[0]![c]!;
    },
  });
  node = Math.max(node, (chains * steps) / ((performance.now() - t0) / 1000));
}

const lab = await openLab();
let browser = 0;
try {
  await lab.page.evaluate(() => window.momentumLab.ready);
  for (let r = 0; r < repeats; r++) {
    const out = await lab.page.evaluate((q) => window.momentumLab.simulate(q), req) as { chainStepsPerSecond: number };
    browser = Math.max(browser, out.chainStepsPerSecond);
  }
} finally {
  await lab.close();
}

const fmt = (v: number): string => `${(v / 1e6).toFixed(1)} M chain-steps/s`;
console.log(`noisy quadratic, ${chains} chains × ${steps} steps, normalised SGDM, best of ${repeats}:`);
console.log(`  Node ${process.version} simulator: ${fmt(node)}`);
console.log(`  Chromium (lab page):   ${fmt(browser)}   browser/Node = ${(browser / node).toFixed(2)}`);
const s = sizes(join(packageRoot(), 'dist', 'lab'));
console.log(`dist/lab: ${(s.total / 1024).toFixed(0)} KiB in ${s.files.length} files; largest: ${s.files.slice(0, 4).map(([f, n]) => `${f} ${(n / 1024).toFixed(0)} KiB`).join(', ')}`);
