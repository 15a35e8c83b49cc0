/**
 * The paper suite's advisor probes, each kept in the output folder as `probe-<key>.json` once done, so that a resumed
 * run repeats none (as the results store does for training runs). The key is a hash of the probe's config and
 * options. Non-finite numbers and −0, which JSON cannot hold, are written as {"$number": "…"}, so a result read back
 * is the one computed, bit for bit.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adviseConfigs, type AdviseJob, type TimedProbe } from '../../node/advise-pool.js';
import { writeAtomically } from '../../node/atomic-write.js';
import { parseModelSpec } from '../../core/nn/models.js';
import { canonicalJson } from '../config.js';
import type { PaperPlan } from './plan.js';

/**
 * The suite's probe of SGDM at effective lr η (γ = η(1−β)) at batch size B, on the batch-size experiment's model,
 * data and budget, with the seed-0 initialisation and batch order of its runs.
 */
export function paperProbeJob(plan: PaperPlan, dataset: string, batch: number, eta: number, options: AdviseJob['options']): AdviseJob {
  const bs = plan.batchSweep;
  return {
    config: {
      problem: null, model: parseModelSpec(bs.model), dataset: dataset as 'mnist', dataDir: null, batch, lr: eta * (1 - bs.momentum),
      momentum: bs.momentum, form: 'pytorch', seed: 0, measureSamples: null, inputs: 'standardize', epochs: bs.epochs,
    },
    options,
  };
}

export function probeFile(dir: string, job: AdviseJob): string {
  return join(dir, `probe-${createHash('sha256').update(canonicalJson(job)).digest('hex').slice(0, 16)}.json`);
}

export function encodeProbe(p: TimedProbe): string {
  return JSON.stringify(p, (_k, v: unknown) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? { $number: Object.is(v, -0) ? '-0' : String(v) } : v));
}

export function decodeProbe(text: string): TimedProbe {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === '$number' && typeof o.$number === 'string') return Number(o.$number);
    }
    return v;
  }) as TimedProbe;
}

/** A file that cannot be read or parsed is no cache: the probe runs again and the file is rewritten. */
function readCached(file: string): TimedProbe | null {
  if (!existsSync(file)) return null;
  try {
    const p = decodeProbe(readFileSync(file, 'utf8'));
    return typeof p === 'object' && p !== null && typeof p.seconds === 'number' && typeof p.result?.verdict === 'object' ? p : null;
  } catch {
    return null;
  }
}

/**
 * adviseConfigs with the cache in `dir`: one promise per job in the jobs' order, and how many came from the cache.
 * A result that cannot be written costs only the time to compute it again next time.
 */
export function cachedProbes(jobs: AdviseJob[], workers: number, dir: string): { probes: Promise<TimedProbe>[]; reused: number } {
  const files = jobs.map((j) => probeFile(dir, j));
  const cached = files.map(readCached);
  const missing = jobs.flatMap((j, i) => (cached[i] === null ? [i] : []));
  const fresh = adviseConfigs(missing.map((i) => jobs[i]!), workers);
  const probes = cached.map((c, i) => {
    if (c !== null) return Promise.resolve(c);
    const p = fresh[missing.indexOf(i)]!.then((r) => {
      try {
        writeAtomically(files[i]!, (write) => write(`${encodeProbe(r)}\n`));
      } catch { /* see above */ }
      return r;
    });
    // As adviseConfigs' own: a failure is the caller's to await, and not an unhandled rejection if it never does.
    p.catch(() => {});
    return p;
  });
  return { probes, reused: jobs.length - missing.length };
}
