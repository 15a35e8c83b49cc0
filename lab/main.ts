/**
 * The lab page: the noisy quadratic (on this thread, a few milliseconds per frame), lock-step training on the
 * digits (train-worker.ts) and the CLI's charts (results.ts), plus the deterministic test hook
 * `window.momentumLab` (docs/lab.md).
 */
import normalsUrl from '../build/normals.wasm?url';
import { useNormalsWasm } from '../src/core/theory/normals.js';
import { drawChart, type Series } from './plot.js';
import { LiveQuadratic, liveTheory, simulateStationary, type LiveParams, type StationaryRequest } from './quadratic.js';
import { setupResults } from './results.js';
import type { TrainOutcome, TrainRequest } from './lock-step.js';
import type { RunPoint, WorkerReply, WorkerRequest } from './train-worker.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toPrecision(digits) : '—');
/** Slider positions are exponents; values are rounded to 3 significant digits so they read cleanly. */
const pow10 = (id: string): number => Number((10 ** Number($<HTMLInputElement>(id).value)).toPrecision(3));
const pow2 = (id: string): number => 2 ** Number($<HTMLInputElement>(id).value);
const linear = (id: string): number => Number($<HTMLInputElement>(id).value);

function show(id: string, v: number): void {
  const o = $(id);
  o.textContent = String(v);
  o.dataset.value = String(v);
}

// ---- tabs (arrow keys move between them, as the WAI-ARIA tabs pattern asks) ----
const tabs = [...document.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
function selectTab(t: HTMLButtonElement): void {
  for (const u of tabs) {
    const on = u === t;
    u.setAttribute('aria-selected', String(on));
    u.tabIndex = on ? 0 : -1;
    $(u.getAttribute('aria-controls')!).hidden = !on;
  }
  t.focus();
}
tabs.forEach((t, i) => {
  t.addEventListener('click', () => selectTab(t));
  t.addEventListener('keydown', (e) => {
    const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (d !== 0) selectTab(tabs[(i + d + tabs.length) % tabs.length]!);
  });
});

// ---- noisy quadratic ----
const CHAINS = 2000;
/** Steps shown per setting (×ℓ under SVAG, the same continuous time). */
const HORIZON = 4000;
$('q-chains').textContent = CHAINS.toLocaleString('en');
let quad: LiveQuadratic | null = null;
let curves: [number, number][][] = [[], []];

function quadParams(): LiveParams {
  return { eta: pow10('q-eta'), beta: linear('q-beta'), lambda: pow10('q-lambda'), dims: pow2('q-dims'), s: pow10('q-s'), batch: pow2('q-batch'), l: pow2('q-l'), chains: CHAINS, seed: 1 };
}

function resetQuadratic(): void {
  const p = quadParams();
  show('q-eta-out', p.eta); show('q-beta-out', p.beta); show('q-lambda-out', p.lambda); show('q-dims-out', p.dims); show('q-s-out', p.s); show('q-batch-out', p.batch); show('q-l-out', p.l);
  const th = liveTheory(p);
  const cell = (id: string, v: number): void => { $(id).textContent = fmt(v); $(id).dataset.value = String(v); };
  cell('q-sgd-closed', th.sgd); cell('q-sgdm-closed', th.sgdm); cell('q-floor', th.floor);
  cell('q-etalambda', th.etaLambda); cell('q-threshold', th.sgdmThreshold);
  $('q-regime').textContent = th.regime;
  $('q-regime').dataset.regime = th.regime;
  quad = new LiveQuadratic(p);
  curves = [[], []];
}

function frameQuadratic(): void {
  const q = quad;
  if (q !== null && q.step < HORIZON * q.p.l) {
    const until = performance.now() + 10;
    while (performance.now() < until && q.step < HORIZON * q.p.l) {
      q.advance(Math.max(1, q.p.l * 4));
      curves.forEach((c, r) => c.push([q.step / q.p.l, q.halfAverage(r)]));
    }
    const sim = [q.halfAverage(0), q.halfAverage(1)];
    ['q-sgd-sim', 'q-sgdm-sim'].forEach((id, r) => { $(id).textContent = q.diverged[r] ? 'diverged' : fmt(sim[r]!); });
    const th = liveTheory(q.p), end = HORIZON;
    const series: Series[] = [
      { label: 'SGD', color: '#b42318', points: curves[0]! },
      { label: 'SGDM', color: '#175cd3', points: curves[1]! },
      { label: 'SGD closed form', color: '#b42318', dash: [6, 4], points: [[0, th.sgd], [end, th.sgd]] },
      { label: 'SGDM closed form', color: '#175cd3', dash: [6, 4], points: [[0, th.sgdm], [end, th.sgdm]] },
      { label: 'noise floor', color: '#555', dash: [2, 3], points: [[0, th.floor], [end, th.floor]] },
    ];
    drawChart($<HTMLCanvasElement>('q-chart'), series, { logY: true, xLabel: 'step (÷ℓ)', yLabel: 'E[L]' });
  }
  requestAnimationFrame(frameQuadratic);
}
for (const id of ['q-eta', 'q-beta', 'q-lambda', 'q-dims', 'q-s', 'q-batch', 'q-l']) $(id).addEventListener('input', resetQuadratic);

// ---- digits, lock-step ----
const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
const pending = new Map<number, { resolve: (r: TrainOutcome) => void; reject: (e: Error) => void }>();
let nextId = 1;
let history: { step: number; sgd: RunPoint; sgdm: RunPoint }[] = [];
/** A live run is in progress: moving a slider restarts it with the new setting. */
let running = false;
let workerReady: (v: { threads: number; kernels: string }) => void;
const ready = new Promise<{ threads: number; kernels: string }>((r) => { workerReady = r; });
const send = (m: WorkerRequest): void => worker.postMessage(m);

function digitParams(): { eta: number; beta: number; batch: number } {
  const p = { eta: pow10('d-eta'), beta: linear('d-beta'), batch: pow2('d-batch') };
  show('d-eta-out', p.eta); show('d-beta-out', p.beta); show('d-batch-out', p.batch);
  return p;
}

function startDigits(): void {
  history = [];
  running = true;
  send({ type: 'live', ...digitParams(), seed: 1, steps: 2000, evalEvery: 20 });
}

function drawDigits(): void {
  const pts = (f: (h: (typeof history)[number]) => number): [number, number][] => history.map((h) => [h.step, f(h)]);
  drawChart($<HTMLCanvasElement>('d-loss'), [
    { label: 'SGD train', color: '#b42318', points: pts((h) => h.sgd.loss) },
    { label: 'SGDM train', color: '#175cd3', points: pts((h) => h.sgdm.loss) },
    { label: 'SGD test', color: '#b42318', dash: [6, 4], points: pts((h) => h.sgd.testLoss) },
    { label: 'SGDM test', color: '#175cd3', dash: [6, 4], points: pts((h) => h.sgdm.testLoss) },
  ], { logY: true, xLabel: 'step', yLabel: 'loss' });
  drawChart($<HTMLCanvasElement>('d-acc'), [
    { label: 'SGD', color: '#b42318', points: pts((h) => h.sgd.testAccuracy) },
    { label: 'SGDM', color: '#175cd3', points: pts((h) => h.sgdm.testAccuracy) },
  ], { xLabel: 'step', yLabel: 'test accuracy', yRange: [0, 1] });
}

worker.onmessage = (e: MessageEvent<WorkerReply>) => {
  const m = e.data;
  if (m.type === 'ready') {
    $('d-kernels').textContent = `${m.kernels}, ${m.threads} thread${m.threads === 1 ? '' : 's'}`;
    $('d-count').textContent = `${m.trainN.toLocaleString('en')} embedded MNIST training digits (${m.testN} held out for the test curves)`;
    workerReady({ threads: m.threads, kernels: m.kernels });
  } else if (m.type === 'error') {
    $('d-step').textContent = `error: ${m.message}`;
  } else if (m.type === 'trained') {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.message !== undefined) p?.reject(new Error(m.message)); else p?.resolve(m.result as TrainOutcome);
  } else if (m.type === 'progress') {
    history.push({ step: m.step, sgd: m.sgd, sgdm: m.sgdm });
    $('d-step').textContent = `step ${m.step}${m.done ? ' (done)' : ''}`;
    if (m.done) running = false;
    for (const [k, r] of [['sgd', m.sgd], ['sgdm', m.sgdm]] as const) {
      $(`d-${k}-loss`).textContent = fmt(r.loss);
      $(`d-${k}-test`).textContent = fmt(r.testLoss);
      $(`d-${k}-acc`).textContent = fmt(r.testAccuracy, 3);
    }
    drawDigits();
  }
};
worker.onerror = (e) => { $('d-step').textContent = `error: ${e.message}`; };
$('d-run').addEventListener('click', startDigits);
$('d-stop').addEventListener('click', () => { running = false; send({ type: 'stop' }); });
for (const id of ['d-eta', 'd-beta', 'd-batch']) {
  $(id).addEventListener('input', digitParams);
  // On release (or a key press), not on every pixel of a drag: each restart builds two fresh models.
  $(id).addEventListener('change', () => { if (running) startDigits(); });
}
digitParams();

// ---- start-up and the test hook ----
declare global {
  interface Window {
    momentumLab: {
      ready: Promise<{ threads: number; kernels: string; crossOriginIsolated: boolean }>;
      simulate(r: StationaryRequest): Promise<ReturnType<typeof simulateStationary>>;
      train(r: TrainRequest): Promise<TrainOutcome>;
    };
  }
}

async function loadNormals(): Promise<void> {
  const r = await fetch(normalsUrl);
  const bytes = new Uint8Array(await r.arrayBuffer());
  // Without it the same loops run in TypeScript, with the same numbers.
  if (r.ok && WebAssembly.validate(bytes)) useNormalsWasm(bytes);
}

const started = (async () => {
  await loadNormals();
  send({ type: 'init', digitsUrl: new URL('digits.bin', document.baseURI).href });
  const w = await ready;
  $('status').textContent = `Cross-origin isolated: ${self.crossOriginIsolated ? 'yes' : 'no'}; kernels ${w.kernels} on ${w.threads} thread${w.threads === 1 ? '' : 's'}.`;
  return { ...w, crossOriginIsolated: self.crossOriginIsolated };
})();

window.momentumLab = {
  ready: started,
  async simulate(r) {
    await started;
    return simulateStationary(r);
  },
  async train(r) {
    await started;
    return new Promise<TrainOutcome>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      send({ type: 'train', id, request: r });
    });
  },
};

setupResults();
resetQuadratic();
requestAnimationFrame(frameQuadratic);
