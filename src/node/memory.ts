/**
 * Peak resident memory of a short training run, measured in a child process (src/node/memory-probe.ts) so the
 * reading is that run's alone: the memory claim compares SGD with SGDM on the same model this way.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface PeakRssRun {
  /** A model name or spec, as the CLI's --model takes it. */
  model: string | Record<string, unknown>;
  optimizer: 'sgd' | 'sgdm';
  /** Training steps (default 20), batch size (default 128); lr 0.01, β = 0.9 for SGDM, one kernel thread. */
  steps?: number;
  batch?: number;
}

/** Peak RSS in bytes of the whole child process, or null when the run failed. */
export function measurePeakRss(run: PeakRssRun): number | null {
  const job: Required<PeakRssRun> = { model: run.model, optimizer: run.optimizer, steps: run.steps ?? 20, batch: run.batch ?? 128 };
  // From .ts sources (tsx) the child needs tsx's loader too.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './memory-probe.ts' : './memory-probe.js', import.meta.url));
  const r = spawnSync(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), entry, JSON.stringify(job)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  try {
    const v = (JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { peakRssBytes?: unknown }).peakRssBytes;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}
