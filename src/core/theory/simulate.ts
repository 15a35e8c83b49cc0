/**
 * Many independent chains at once. Every optimizer update is `optimizerStep` from src/optim applied to one flat
 * chains×dim buffer (the update is element-wise, so one call steps all chains), and SVAG is `svagCombine` on two
 * oracle calls: the simulator adds no update rule of its own. Runs listed together are coupled: at every step
 * they consume the same random numbers ω (common random numbers, as in the ConvNetJS trainer demo).
 * Large jobs split the chains over helper threads sharing the buffers (SharedArrayBuffer); they meet at every
 * observation point, so `observe` always sees all chains at the same step. The host lends those threads
 * (`useSimulationThreads`; Node: src/node/sim-threads.ts); without a host every chain runs on this thread, with
 * the same numbers.
 */
import { initOptimizer, optimizerStep, svagCombine, checkSvagLevel, type OptimizerConfig, type OptimizerState } from '../optim/index.js';
import { check } from '../util/errors.js';
import { checkLimit } from '../util/limits.js';
import { NormalStream } from './normals.js';
import { makeProblem, type Problem, type ProblemSpec } from './problems.js';

export interface SimulationSpec {
  problem: Problem;
  chains: number;
  /** Start point (length dim), the same for every chain. */
  x0: readonly number[];
  /** Optimizers run side by side on the same noise. */
  runs: readonly OptimizerConfig[];
  /** Steps to take (with SVAG, the already-stretched count). */
  steps: number;
  seed: number;
  /** SVAG level ℓ (1 = plain): gradient r₁g(ω¹) + r₂g(ω²) and lr × 1/ℓ. */
  svag?: number;
  /**
   * Called with the iterates of every run after k = 0, every, 2·every, … steps (and after the last step).
   * The buffers are live: copy what must be kept.
   */
  observe?: (k: number, xs: readonly Float64Array[], diverged: readonly Uint8Array[]) => void;
  every?: number;
  /** A chain with |x_j| above this (or NaN) is marked diverged and restarted at x0 (kept out of statistics); default 1e12. */
  divergenceBound?: number;
  /**
   * Threads stepping the chains (default: 1 for small jobs, up to the host's thread count for large ones; always
   * 1 without a host). Results do not depend on it: each block of CHAIN_BLOCK chains has its own noise stream.
   */
  threads?: number;
  /**
   * Steps between divergence checks (default 8; always also before `observe` and at the end). Chains are
   * independent, so a chain that overflows between checks harms no other; only its divergedAt is later.
   */
  guardEvery?: number;
}

export interface SimulationResult {
  xs: Float64Array[];
  /** Per run, per chain: 1 if the chain ever crossed the divergence bound. */
  diverged: Uint8Array[];
  /** Per run, per chain: step at which its divergence was detected (within guardEvery of the crossing), −1 if never. */
  divergedAt: Int32Array[];
}

function broadcast(x0: readonly number[], chains: number, dim: number, out: Float64Array = new Float64Array(chains * dim)): Float64Array {
  for (let c = 0; c < chains; c++) for (let j = 0; j < dim; j++) out[c * dim + j] = x0[j]!;
  return out;
}

/**
 * Chains are grouped in blocks of CHAIN_BLOCK, each with its own noise stream seeded from (seed, block), so the
 * numbers a chain sees do not depend on how many threads share the work.
 */
export const CHAIN_BLOCK = 512;

/** Seed of block b's stream (a splitmix32 finaliser of seed and b). */
export function blockSeed(seed: number, b: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(b + 1, 0x85ebca6b)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** What a slice of chains needs to step on its own (plain data: it is also sent to worker threads). */
export interface SliceSetup {
  problem: Problem;
  runs: readonly OptimizerConfig[];
  seed: number;
  svag: number;
  bound: number;
  guardEvery: number;
  x0: readonly number[];
  /** Chains [first, last) of the whole population. */
  first: number;
  last: number;
}

/**
 * The stepping core for chains [first, last): per step, fill ω (and ω² for SVAG) block by block from the blocks'
 * streams, then for every run call the oracle and `optimizerStep` on the slice's part of the flat buffers.
 */
class ChainSlice {
  private readonly streams: NormalStream[];
  private readonly omega: Float64Array;
  private readonly omega2: Float64Array | null;
  private readonly g: Float64Array;
  private readonly g2: Float64Array | null;
  private readonly states: OptimizerState[];
  private readonly xs: Float64Array[];
  private readonly diverged: Uint8Array[];
  private readonly divergedAt: Int32Array[];

  constructor(private readonly s: SliceSetup, xs: Float64Array[], diverged: Uint8Array[], divergedAt: Int32Array[]) {
    const p = s.problem, dim = p.dim, chains = s.last - s.first;
    this.xs = xs.map((x) => x.subarray(s.first * dim, s.last * dim));
    this.diverged = diverged.map((d) => d.subarray(s.first, s.last));
    this.divergedAt = divergedAt.map((d) => d.subarray(s.first, s.last));
    this.streams = [];
    for (let b = Math.floor(s.first / CHAIN_BLOCK); b * CHAIN_BLOCK < s.last; b++) this.streams.push(new NormalStream(blockSeed(s.seed, b)));
    this.omega = new Float64Array(chains * p.noise.perChain);
    this.omega2 = s.svag === 1 ? null : new Float64Array(chains * p.noise.perChain);
    this.g = new Float64Array(chains * dim);
    this.g2 = s.svag === 1 ? null : new Float64Array(chains * dim);
    this.states = s.runs.map((c) => initOptimizer(c, chains * dim, 'float64'));
  }

  private fillNoise(): void {
    const p = this.s.problem, per = p.noise.perChain, normal = p.noise.kind === 'normal';
    for (let i = 0; i < this.streams.length; i++) {
      const b = Math.floor(this.s.first / CHAIN_BLOCK) + i;
      const from = (Math.max(this.s.first, b * CHAIN_BLOCK) - this.s.first) * per;
      const to = (Math.min(this.s.last, (b + 1) * CHAIN_BLOCK) - this.s.first) * per;
      for (const out of this.omega2 === null ? [this.omega] : [this.omega, this.omega2]) {
        if (normal) this.streams[i]!.fillNormal(out, from, to);
        else this.streams[i]!.fillUniform(out, from, to);
      }
    }
  }

  /** Steps k = from … to−1 (the step counter of the whole simulation); guards divergence as it goes and at `to`. */
  advance(from: number, to: number): void {
    const { problem: p, runs, svag: l } = this.s;
    for (let k = from; k < to; k++) {
      this.fillNoise();
      for (let r = 0; r < runs.length; r++) {
        const x = this.xs[r]!;
        p.oracle(x, this.omega, this.g);
        if (this.omega2 !== null && this.g2 !== null) {
          p.oracle(x, this.omega2, this.g2);
          svagCombine(this.g, this.g2, l, this.g);
        }
        optimizerStep(runs[r]!, x, this.g, this.states[r]!, 1 / l);
      }
      if ((k + 1) % this.s.guardEvery === 0 || k + 1 === to) {
        for (let r = 0; r < runs.length; r++) {
          guardDivergence(this.xs[r]!, this.states[r]!, p.dim, this.s.bound, this.s.x0, this.diverged[r]!, this.divergedAt[r]!, k + 1);
        }
      }
    }
  }
}

/** A helper thread lent by the host: it runs `runSliceWorker(job)` for every job posted to it. */
export interface SliceWorker {
  post(job: SliceJob): void;
  /** Hands the thread back after a simulation; `failed`: a job threw, so it is not to be reused. */
  release(failed: boolean): void;
}

/** Helper threads for large simulations, supplied by the host. */
export interface SimulationThreads {
  /** Threads worth using at most (e.g. the core count). */
  readonly available: number;
  acquire(): SliceWorker;
}

let lentThreads: SimulationThreads | null = null;

/** Registers the host's helper threads for this thread's simulations (null: run every chain here). */
export function useSimulationThreads(threads: SimulationThreads | null): void {
  lentThreads = threads;
}

/** Threads used when `threads` is not given: several only for large jobs, where start-up (~50 ms each) pays. */
function autoThreads(spec: SimulationSpec, available: number): number {
  const work = spec.chains * spec.problem.dim * spec.steps * spec.runs.length * (spec.svag === undefined || spec.svag === 1 ? 1 : 2);
  // Threads meet at every observation point; a segment shorter than ~2e5 chain-coordinate-steps costs more in
  // synchronisation than it gains.
  const segment = spec.chains * spec.problem.dim * Math.min(spec.every ?? 1, spec.steps);
  if (work < 2e8 || segment < 2e5) return 1;
  return Math.max(1, Math.min(available, 4, Math.floor(spec.chains / CHAIN_BLOCK)));
}

export function simulate(spec: SimulationSpec): SimulationResult {
  const { problem: p, chains, runs, steps } = spec;
  const dim = p.dim;
  check(Number.isInteger(chains) && chains >= 1, 'chains', `must be an integer ≥ 1, got ${chains}`);
  check(Number.isInteger(steps) && steps >= 0, 'steps', `must be an integer ≥ 0, got ${steps}`);
  check(spec.x0.length === dim, 'x0', `must have ${dim} coordinates, got ${spec.x0.length}`);
  const l = spec.svag ?? 1;
  checkSvagLevel(l, 'svag');
  checkSimulationSize(chains, dim, steps, runs.length * (l === 1 ? 1 : 2));
  const every = spec.every ?? 1;
  check(spec.threads === undefined || (Number.isInteger(spec.threads) && spec.threads >= 1), 'threads', `must be an integer ≥ 1, got ${spec.threads}`);
  const lent = lentThreads;
  const threads = lent === null ? 1 : Math.min(spec.threads ?? autoThreads(spec, lent.available), Math.ceil(chains / CHAIN_BLOCK));
  const setup: Omit<SliceSetup, 'first' | 'last'> = {
    problem: p, runs, seed: spec.seed, svag: l, bound: spec.divergenceBound ?? 1e12, guardEvery: spec.guardEvery ?? 8, x0: spec.x0,
  };
  // Shared memory when worker threads step part of the chains; otherwise ordinary buffers.
  const alloc = (bytes: number): ArrayBuffer | SharedArrayBuffer => (threads > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const xs = runs.map(() => broadcast(spec.x0, chains, dim, new Float64Array(alloc(8 * chains * dim))));
  const diverged = runs.map(() => new Uint8Array(alloc(chains)));
  const divergedAt = runs.map(() => new Int32Array(alloc(4 * chains)).fill(-1));
  // Thread t gets a contiguous range of whole blocks; thread 0 is this one.
  const blocks = Math.ceil(chains / CHAIN_BLOCK);
  const range = (t: number): [number, number] => [
    Math.min(chains, Math.floor((t * blocks) / threads) * CHAIN_BLOCK), Math.min(chains, Math.floor(((t + 1) * blocks) / threads) * CHAIN_BLOCK),
  ];
  const [first, last] = range(0);
  const own = new ChainSlice({ ...setup, first, last }, xs, diverged, divergedAt);
  const pool = threads > 1 && lent !== null ? startWorkers(lent, setup, threads, range, xs, diverged, divergedAt) : null;
  try {
    spec.observe?.(0, xs, diverged);
    for (let k = 0; k < steps;) {
      const next = Math.min(steps, (Math.floor(k / every) + 1) * every);
      pool?.advance(next);
      own.advance(k, next);
      pool?.wait();
      k = next;
      spec.observe?.(k, xs, diverged);
    }
  } finally {
    pool?.stop();
  }
  return { xs, diverged, divergedAt };
}

// Control words shared with the workers.
const TARGET = 0, DONE = 1, STOP = 2, FAILED = 3, READY = 4;
/**
 * Polls of a control word (~50 µs) before sleeping in Atomics.wait: threads meet at every observation, often
 * every few hundred µs, and waking a sleeping thread took ~100 µs here (a 2-thread run at every = 10 was
 * 30% slower than at every = 2000 without the spin).
 */
const SPIN_POLLS = 20_000;

/** A job for one helper thread: plain data and shared buffers (it crosses a postMessage). */
export interface SliceJob {
  setup: Omit<SliceSetup, 'problem'>;
  problem: ProblemSpec;
  ctrl: SharedArrayBuffer;
  xs: SharedArrayBuffer[];
  diverged: SharedArrayBuffer[];
  divergedAt: SharedArrayBuffer[];
}

function startWorkers(lent: SimulationThreads, setup: Omit<SliceSetup, 'first' | 'last'>, threads: number,
  range: (t: number) => [number, number], xs: Float64Array[], diverged: Uint8Array[], divergedAt: Int32Array[],
): { advance(to: number): void; wait(): void; stop(): void } {
  const ctrl = new Int32Array(new SharedArrayBuffer(32));
  const workers: SliceWorker[] = [];
  const { problem, ...rest } = setup;
  for (let t = 1; t < threads; t++) {
    const [first, last] = range(t);
    const w = lent.acquire();
    workers.push(w);
    w.post({ setup: { ...rest, first, last }, problem: problem.spec, ctrl: ctrl.buffer as SharedArrayBuffer,
      xs: xs.map((x) => x.buffer as SharedArrayBuffer), diverged: diverged.map((d) => d.buffer as SharedArrayBuffer),
      divergedAt: divergedAt.map((d) => d.buffer as SharedArrayBuffer) });
  }
  const helpers = threads - 1;
  let failed = false;
  return {
    advance(to) {
      Atomics.store(ctrl, DONE, 0);
      Atomics.store(ctrl, TARGET, to);
      Atomics.notify(ctrl, TARGET);
    },
    wait() {
      // Workers cannot report through the event loop while this thread blocks, so they raise FAILED instead.
      const started = Date.now();
      for (let i = 0; i < SPIN_POLLS && Atomics.load(ctrl, DONE) !== helpers; i++);
      for (;;) {
        const done = Atomics.load(ctrl, DONE);
        if (Atomics.load(ctrl, FAILED) !== 0) {
          failed = true;
          throw new Error('simulator worker thread failed (its error is on stderr)');
        }
        if (done === helpers) return;
        if (Atomics.load(ctrl, READY) < helpers && Date.now() - started > 30_000) {
          failed = true;
          throw new Error('simulator worker threads did not start within 30 s');
        }
        Atomics.wait(ctrl, DONE, done, 1000);
      }
    },
    stop() {
      // TARGET = −1 after STOP: a worker that has not yet begun to wait sees TARGET ≠ done, does not block, and
      // reads STOP; one already waiting is woken by the notify.
      Atomics.store(ctrl, STOP, 1);
      Atomics.store(ctrl, TARGET, -1);
      Atomics.notify(ctrl, TARGET);
      // Back to the host once they have left the job (they do at STOP); after a failure, start afresh.
      for (const w of workers) w.release(failed);
    },
  };
}

/**
 * One job of a helper thread (Node: src/node/sim-worker.ts): steps its slice whenever TARGET moves, until STOP.
 * An error goes to `report` (the main thread cannot hear from us while it waits), then raises FAILED.
 */
export function runSliceWorker(data: SliceJob, report: (error: unknown) => void): void {
  const ctrl = new Int32Array(data.ctrl);
  try {
    const slice = new ChainSlice({ ...data.setup, problem: makeProblem(data.problem) },
      data.xs.map((b) => new Float64Array(b)), data.diverged.map((b) => new Uint8Array(b)), data.divergedAt.map((b) => new Int32Array(b)));
    Atomics.add(ctrl, READY, 1);
    let done = 0;
    for (;;) {
      let target = Atomics.load(ctrl, TARGET);
      for (let i = 0; target === done && i < SPIN_POLLS; i++) target = Atomics.load(ctrl, TARGET);
      if (target === done) {
        Atomics.wait(ctrl, TARGET, done);
        continue;
      }
      if (Atomics.load(ctrl, STOP) !== 0) return;
      slice.advance(done, target);
      done = target;
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  } catch (e) {
    report(e);
    Atomics.store(ctrl, FAILED, 1);
    Atomics.notify(ctrl, DONE);
  }
}

/** Marks and restarts chains whose iterate left [−bound, bound] (or became NaN), so no NaN reaches statistics. */
function guardDivergence(x: Float64Array, st: OptimizerState, dim: number, bound: number, x0: readonly number[],
  diverged: Uint8Array, divergedAt: Int32Array, k: number): void {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (!(a <= worst)) worst = a; // also catches NaN
  }
  if (worst <= bound) return;
  for (let c = 0, i = 0; i < x.length; c++, i += dim) {
    let bad = false;
    for (let j = 0; j < dim; j++) if (!(Math.abs(x[i + j]!) <= bound)) bad = true;
    if (!bad) continue;
    if (diverged[c] === 0) {
      diverged[c] = 1;
      divergedAt[c] = k;
    }
    for (let j = 0; j < dim; j++) {
      x[i + j] = x0[j]!;
      if (st.buffer !== null) st.buffer[i + j] = 0;
    }
  }
}

export interface SdeSpec {
  problem: Problem;
  chains: number;
  x0: readonly number[];
  /** η of the diffusion coefficient (ησ²Σ)^{1/2}; σ is the problem's. */
  eta: number;
  /** Euler–Maruyama time step and horizon T (steps = round(T/dt)). */
  dt: number;
  T: number;
  seed: number;
  observe?: (t: number, x: Float64Array) => void;
  every?: number;
}

/** Bounds a job before any buffer is allocated (src/core/util/limits.ts): horizon, work and state size. */
function checkSimulationSize(chains: number, dim: number, steps: number, runs: number): void {
  checkLimit(steps, 'steps', 'the horizon in steps (T/η or T/dt)', 'steps');
  checkLimit(chains * dim * runs, 'chainValues', 'the simulator state (chains × coordinates × runs)', 'chains');
  checkLimit(chains * dim * steps * runs, 'work', 'the simulation work (chains × coordinates × steps × runs)', 'chains');
}

/** Euler–Maruyama for dX = −∇L dt + (ησ²Σ)^{1/2} dW: X ← X − ∇L(X)·dt + σ√(η·dt)·Σ^{1/2}z. */
export function simulateSde(spec: SdeSpec): Float64Array {
  const p = spec.problem;
  check(p.diffusion !== undefined && p.sigma !== undefined, 'problem', `${p.name} has no Gaussian diffusion term for an SDE`);
  check(spec.dt > 0 && spec.T >= 0, 'dt', `needs dt > 0 and T ≥ 0, got dt=${spec.dt}, T=${spec.T}`);
  const steps = Math.round(spec.T / spec.dt);
  check(Number.isInteger(spec.chains) && spec.chains >= 1, 'chains', `must be an integer ≥ 1, got ${spec.chains}`);
  checkSimulationSize(spec.chains, p.dim, steps, 1);
  const n = spec.chains * p.dim;
  const x = broadcast(spec.x0, spec.chains, p.dim);
  const drift = new Float64Array(n);
  const z = new Float64Array(spec.chains * p.noise.perChain);
  const rng = new NormalStream(spec.seed);
  const scale = p.sigma! * Math.sqrt(spec.eta * spec.dt);
  const every = spec.every ?? 1;
  spec.observe?.(0, x);
  for (let k = 0; k < steps; k++) {
    p.gradient(x, drift);
    for (let i = 0; i < n; i++) drift[i] = -spec.dt * drift[i]!;
    rng.fillNormal(z);
    p.diffusion!(x, z, scale, drift);
    for (let i = 0; i < n; i++) x[i] = x[i]! + drift[i]!;
    if ((k + 1) % every === 0 || k + 1 === steps) spec.observe?.((k + 1) * spec.dt, x);
  }
  return x;
}

/** Mean and standard error over chains of a per-chain statistic, skipping chains flagged in `skip`. */
export function meanAndError(values: Float64Array, skip?: Uint8Array): { mean: number; se: number; count: number } {
  let s = 0, s2 = 0, m = 0;
  for (let c = 0; c < values.length; c++) {
    if (skip !== undefined && skip[c] !== 0) continue;
    const v = values[c]!;
    s += v;
    s2 += v * v;
    m++;
  }
  if (m === 0) return { mean: NaN, se: NaN, count: 0 };
  const mean = s / m;
  const variance = m > 1 ? Math.max(0, (s2 - m * mean * mean) / (m - 1)) : 0;
  return { mean, se: Math.sqrt(variance / m), count: m };
}
