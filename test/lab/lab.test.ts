/**
 * The browser lab (lab/, built into dist/lab) in Debian's headless Chromium, served by `momentum-lab lab`:
 * no console errors, no request off its own origin, cross-origin isolation, the closed forms it shows, its
 * simulator against the closed form and against the Node simulator, its lock-step training against the Node
 * engine bit for bit, and the CLI's charts drawn from a claims.json and a *.vl.json. Also screenshots both live
 * views (MOMENTUM_LAB_SCREENSHOTS=1 copies them into docs/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeEmbeddedMnist, toSplit, type Dataset, type RawSplit } from '../../src/core/data/dataset.js';
import { float32Backend } from '../../src/core/engine/backend.js';
import { Trainer } from '../../src/core/nn/trainer.js';
import { optimizerConfig } from '../../src/core/optim/index.js';
import { stationaryLoss } from '../../src/core/theory/closed-forms.js';
import { diagonalQuadratic } from '../../src/core/theory/problems.js';
import { meanAndError, simulate } from '../../src/core/theory/simulate.js';
import { createWasmKernels } from '../../src/node/kernels.js';
import { claimCharts } from '../../src/report/claim-charts.js';
import { repoRoot, tempDir } from '../experiments/helpers.js';
import { openLab, type LabPage } from './page.js';

interface Stationary { meanLoss: number; se: number; closedForm: number; chainStepsPerSecond: number }
interface Trained { loss: number; losses: number[]; testLoss: number; testAccuracy: number; paramsHash: string; kernels: string }

/** FNV-1a (32-bit) over the bytes of the float32 parameters, as lab/lock-step.ts `float32Hash` computes it. */
function float32Hash(a: Float32Array): string {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) for (let b = 0; b < 32; b += 8) h = Math.imul(h ^ ((bits[i]! >>> b) & 0xff), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** What the page's simulate hook computes, with the Node simulator: the L time-average over steps ⌊K/2⌋+1 … K. */
function nodeStationary(r: { eta: number; beta: number; lambda: number; s: number; chains: number; steps: number; seed: number }): number {
  const from = Math.floor(r.steps / 2), sums = new Float64Array(r.chains), half = 0.5 * r.lambda;
  const run = r.beta === 0 ? optimizerConfig({ form: 'sgd', lr: r.eta }) : optimizerConfig({ form: 'normalized', lr: r.eta, momentum: r.beta });
  simulate({
    problem: diagonalQuadratic([r.lambda], r.s), chains: r.chains, x0: [0], runs: [run], steps: r.steps, seed: r.seed,
    observe(k, xs) {
      if (k <= from) return;
      for (let c = 0; c < r.chains; c++) sums[c] = sums[c]! + half * xs[0]![c]! * xs[0]![c]!;
    },
  });
  return meanAndError(sums.map((v) => v / (r.steps - from))).mean;
}

/** The lab's data: the first 2,000 / 500 digits of the embedded MNIST splits (lab/digits-asset.ts). */
function labDigits(): Dataset {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const { train, test } = decodeEmbeddedMnist(Array.from({ length: 10 }, (_, d) => ({ file: `${d}.json`, text: readFileSync(join(dir, `${d}.json`), 'utf8') })));
  const head = (s: RawSplit, n: number): RawSplit => ({ images: s.images.subarray(0, n * 784), labels: s.labels.subarray(0, n), n });
  return { name: 'mnist', shape: [1, 28, 28], classes: 10, train: toSplit(head(train, 2000)), test: toSplit(head(test, 500)) };
}

/** The Node engine on the lab's config (lab/lock-step.ts): MLP 784-128-10, PyTorch-form SGDM at lr γ (SGD at β = 0). */
async function nodeTrain(r: { seed: number; steps: number; batch: number; lr: number; momentum: number }, threads: number): Promise<Trained> {
  const kernels = await createWasmKernels({ variant: 'simd', threads });
  try {
    const optimizer = r.momentum === 0 ? optimizerConfig({ form: 'sgd', lr: r.lr }) : optimizerConfig({ form: 'pytorch', lr: r.lr, momentum: r.momentum });
    const data = labDigits();
    const t = new Trainer({ model: { kind: 'mlp', hidden: [128], activation: 'relu', dropout: 0 }, optimizer, data, batch: r.batch, seed: r.seed, evalEveryEpoch: false, backend: float32Backend(kernels) });
    const losses: number[] = [];
    for (let k = 0; k < r.steps; k++) losses.push(t.step().loss);
    const ev = t.evaluate(data.test);
    return { loss: losses[losses.length - 1]!, losses, testLoss: ev.loss, testAccuracy: ev.accuracy, paramsHash: float32Hash(t.model.store.params as Float32Array), kernels: kernels.name };
  } finally {
    kernels.dispose();
  }
}

test('lab: served by momentum-lab lab, isolated, offline; simulator, closed forms, lock-step training and charts match the Node side', async (t) => {
  const lab: LabPage = await openLab();
  try {
    const { page } = lab;
    const w = await page.evaluate(() => window.momentumLab.ready) as { threads: number; kernels: string; crossOriginIsolated: boolean };
    assert.equal(w.crossOriginIsolated, true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    assert.equal(w.threads, Math.max(1, Math.min(4, cores)), 'threads: min(4, cores) when isolated');
    assert.match(w.kernels, /^wasm/);

    await t.test('simulate: the stationary loss within 4 Monte-Carlo SE of the closed form, and equal to the Node simulator', async () => {
      for (const [eta, beta] of [[0.05, 0], [0.05, 0.9], [1, 0], [1, 0.9]] as const) {
        const req = { eta, beta, lambda: 1, s: 1, chains: 2000, steps: 4000, seed: 7 };
        const r = await page.evaluate((q) => window.momentumLab.simulate(q), req) as Stationary;
        // (ηs²/4)/(1 − ηλ(1−β)/(2(1+β))): η = 0.05 → 0.0128205 (SGD), 0.0125165 (SGDM); η = 1 → 0.5 (SGD), 0.256757 (SGDM).
        const expected = { '0.05,0': 0.0128205, '0.05,0.9': 0.0125165, '1,0': 0.5, '1,0.9': 0.256757 }[`${eta},${beta}`]!;
        assert.ok(Math.abs(r.closedForm - expected) < 1e-5 * expected, `closed form ${r.closedForm} vs ${expected}`);
        assert.ok(Math.abs(r.meanLoss - r.closedForm) <= 4 * r.se, `η=${eta} β=${beta}: simulated ${r.meanLoss} ± ${r.se} vs closed form ${r.closedForm}`);
        // The same code on the same seed: the ziggurat's tail and wedge draws use the engine's own exp and log
        // (src/core/util/fmath.ts), not Math.exp/Math.log, whose last bit differs between V8 versions.
        assert.equal(r.meanLoss, nodeStationary(req));
      }
    });

    await t.test('the η slider changes the displayed closed forms as (ηs²/4)/(1 − ηλ(1−β)/(2(1+β)))', async () => {
      const read = async (id: string): Promise<number> => Number(await page.locator(`#${id}`).getAttribute('data-value'));
      for (const pos of ['-1', '0.3']) {
        await page.locator('#q-eta').fill(pos);
        const eta = await read('q-eta-out'), lambda = await read('q-lambda-out'), beta = await read('q-beta-out');
        assert.equal(eta, Number((10 ** Number(pos)).toPrecision(3)));
        // Past SGD's threshold ηλ = 2 there is no stationary law: the page shows NaN (as —).
        assert.equal(await read('q-sgd-closed'), eta * lambda < 2 ? stationaryLoss(eta, 0, lambda, 1) : NaN);
        assert.equal(await read('q-sgdm-closed'), stationaryLoss(eta, beta, lambda, 1));
        assert.equal(await read('q-floor'), eta / 4);
      }
      // η = 10^0.3 = 2.00 with λ = 2.00: ηλ = 4 is past SGD's threshold 2, below SGDM's 38.
      assert.equal(await page.locator('#q-regime').textContent(), 'SGD unstable');
      // The keyboard moves the slider one step (0.01 in log10 η): η = 10^0.29 = 1.95.
      await page.locator('#q-eta').focus();
      await page.keyboard.press('ArrowLeft');
      assert.equal(await read('q-eta-out'), 1.95);
      assert.equal(await read('q-sgdm-closed'), stationaryLoss(1.95, 0.9, 2, 1));
      await page.locator('#q-eta').fill('-2');
      assert.equal(await page.locator('#q-regime').textContent(), 'noise-dominated');
    });

    await t.test('a spectrum: d = 8 curvatures from λ to λ/100, closed forms summed over them, the simulation near them', async () => {
      const read = async (id: string): Promise<number> => Number(await page.locator(`#${id}`).getAttribute('data-value'));
      await page.locator('#q-eta').fill('-0.3');
      await page.locator('#q-dims').fill('3');
      const eta = await read('q-eta-out'), lambda = await read('q-lambda-out');
      assert.equal(await read('q-dims-out'), 8);
      const lambdas = Array.from({ length: 8 }, (_, j) => lambda * 100 ** (-j / 7));
      const sum = (beta: number): number => lambdas.reduce((a, l) => a + stationaryLoss(eta, beta, l, 1), 0);
      assert.equal(await read('q-sgd-closed'), sum(0));
      assert.equal(await read('q-sgdm-closed'), sum(0.9));
      assert.equal(await read('q-floor'), 8 * (eta / 4));
      await page.waitForTimeout(4000);
      for (const [run, beta] of [['sgd', 0], ['sgdm', 0.9]] as const) {
        const sim = Number(await page.locator(`#q-${run}-sim`).textContent());
        assert.ok(Math.abs(sim - sum(beta)) < 0.1 * sum(beta), `${run}: simulated ${sim} vs closed form ${sum(beta)}`);
      }
      await page.locator('#q-dims').fill('0');
    });

    await t.test('train: SGD and SGDM losses bit-identical to the Node engine at the same seed and thread count', async () => {
      for (const momentum of [0, 0.9]) {
        const req = { seed: 3, steps: 30, batch: 32, lr: momentum === 0 ? 0.1 : 0.01, momentum };
        const r = await page.evaluate((q) => window.momentumLab.train(q), req) as Trained;
        const n = await nodeTrain(req, w.threads);
        // The WebAssembly kernels give bit-identical weights after every step, and the loss uses the engine's own
        // exp and log (src/core/util/fmath.ts): Math.exp/Math.log differ in the last bit between Node 20's V8 and
        // Chromium's.
        assert.equal(r.paramsHash, n.paramsHash);
        assert.deepEqual(r.losses, n.losses);
        assert.equal(r.losses.length, req.steps);
        assert.equal(r.testLoss, n.testLoss);
        assert.equal(r.testAccuracy, n.testAccuracy);
        // Training lowers the loss from about ln 10 = 2.30 at initialisation.
        assert.ok(r.losses[0]! > 2 && r.loss < r.losses[0]!, `losses ${r.losses[0]} → ${r.loss}`);
      }
    });

    await t.test('results: a claims.json and a *.vl.json drawn with the CLI specs', async () => {
      const claimsFile = join(repoRoot(), 'results', 'paper-quick', 'claims.json');
      const expected = claimCharts((JSON.parse(readFileSync(claimsFile, 'utf8')) as { claims: { id: string; measurements: Record<string, unknown>[] }[] }).claims).map((c) => c.name);
      assert.deepEqual(expected, ['batch-size-best', 'svag-vs-l', 'fine-tuning-vs-k', 'text-spam-vs-k']);
      const vl = join(tempDir('lab-vl'), 'loss.vl.json');
      writeFileSync(vl, JSON.stringify({ title: 'a chart', data: { values: [{ x: 1, y: 2 }, { x: 2, y: 1 }] }, mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } }));
      await page.locator('#tab-results').click();
      await page.locator('#pick-files').setInputFiles([claimsFile, vl]);
      await page.waitForSelector('#r-status[data-charts]');
      const names = await page.$$eval('#r-charts figure', (fs) => fs.map((f) => [f.getAttribute('data-chart'), f.querySelectorAll('svg path, svg line').length] as const));
      assert.deepEqual(names.map((x) => x[0]), [...expected, 'loss']);
      for (const [name, marks] of names) assert.ok(marks > 0, `chart ${name} has nothing drawn`);
    });

    await t.test('screenshots of both live views', async () => {
      const out = tempDir('lab-shots');
      await page.locator('#tab-quadratic').click();
      await page.locator('#q-eta').fill('-0.3');
      await page.waitForFunction(() => document.getElementById('q-sgdm-sim')?.textContent !== '—', undefined, { timeout: 20_000 });
      await page.waitForTimeout(3000);
      await page.screenshot({ path: join(out, 'lab-quadratic.png'), fullPage: true });
      await page.locator('#tab-digits').click();
      await page.locator('#d-run').click();
      await page.waitForFunction(() => /step (\d{3,})/.test(document.getElementById('d-step')?.textContent ?? '') && Number(/step (\d+)/.exec(document.getElementById('d-step')!.textContent!)![1]) >= 300, undefined, { timeout: 120_000 });
      await page.locator('#d-stop').click();
      const acc = Number(await page.locator('#d-sgdm-acc').textContent());
      assert.ok(acc > 0.5, `SGDM test accuracy after 300 steps: ${acc}`);
      await page.screenshot({ path: join(out, 'lab-digits.png'), fullPage: true });
      if (process.env.MOMENTUM_LAB_SCREENSHOTS === '1') {
        for (const f of ['lab-quadratic.png', 'lab-digits.png']) copyFileSync(join(out, f), join(repoRoot(), 'docs', f));
      }
    });

    assert.deepEqual(lab.consoleErrors, []);
    assert.deepEqual(lab.externalRequests, []);
  } finally {
    await lab.close();
  }
});

test('lab on a static host without COOP/COEP: not isolated, one thread, and the same trained weights', async () => {
  const lab = await openLab({ isolate: false });
  try {
    const w = await lab.page.evaluate(() => window.momentumLab.ready) as { threads: number; kernels: string; crossOriginIsolated: boolean };
    assert.equal(w.crossOriginIsolated, false);
    assert.equal(w.threads, 1);
    const req = { seed: 3, steps: 30, batch: 32, lr: 0.01, momentum: 0.9 };
    const r = await lab.page.evaluate((q) => window.momentumLab.train(q), req) as Trained;
    // Chromium still creates a shared WebAssembly memory outside isolation (only SharedArrayBuffer's constructor is
    // hidden), so the kernels are the WebAssembly ones on one thread, with the same weights as Node's.
    assert.equal(r.kernels, 'wasm-simd-1t');
    const n = await nodeTrain(req, 1);
    assert.equal(r.paramsHash, n.paramsHash);
    assert.deepEqual(lab.consoleErrors, []);
    assert.deepEqual(lab.externalRequests, []);
  } finally {
    await lab.close();
  }
});
