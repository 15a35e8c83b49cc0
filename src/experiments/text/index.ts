/**
 * The text fine-tuning experiment on Node: the corpus from its package, one-thread WebAssembly kernels, and a cache
 * in the output folder — the pre-trained checkpoint (pretrain.ts) and the finished result, each named by a hash of
 * the plan, so that running the same command again (or `paper` after `text` on the same folder) repeats no training.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { float32Backend } from '../../core/engine/backend.js';
import { fnv1a } from '../../core/text/corpus.js';
import { spamCorpus } from '../../node/data/text-corpus.js';
import { openKernels } from '../../node/kernels.js';
import { moduleWorker } from '../../node/module-worker.js';
import { fromThreadError } from '../../core/util/errors.js';
import { writeAtomically } from '../../node/atomic-write.js';
import { canonicalJson } from '../config.js';
import { runTextExperiment, type TextResult } from './experiment.js';
import { textPlan, type TextMode, type TextPlan } from './plan.js';
import type { TextWorkerData, TextWorkerMessage } from './worker.js';

export { textPlan, type TextMode, type TextPlan } from './plan.js';
export type { TextResult } from './experiment.js';

/** What runText gives: the plan it ran, its result, and whether that result came from the cache. */
export interface TextRun { plan: TextPlan; result: TextResult; cached: boolean }

export async function runText(mode: TextMode, cacheDir: string, log: (line: string) => void, plan: TextPlan = textPlan(mode)): Promise<TextRun> {
  const { parts } = spamCorpus();
  const key = fnv1a(canonicalJson({ plan, corpus: Object.values(parts).map((p) => p.length) })).toString(16).padStart(8, '0');
  const file = join(cacheDir, `text-result-${key}.json`);
  if (existsSync(file)) {
    log(`      text experiment reused from ${file}`);
    return { plan, result: JSON.parse(readFileSync(file, 'utf8')) as TextResult, cached: true };
  }
  const { kernels, owned } = await openKernels({ threads: 1 });
  try {
    const result = runTextExperiment(plan, parts, { cacheDir, backend: float32Backend(kernels), log });
    writeAtomically(file, (write) => write(Buffer.from(`${JSON.stringify(result)}\n`)));
    return { plan, result, cached: false };
  } finally {
    if (owned) kernels.dispose();
  }
}

/** The text experiment running on its own thread (runTextInBackground). */
export interface TextJob {
  /** Writes the lines logged so far to `log`, then each new one, and resolves with runText's value. */
  finish(log: (line: string) => void): Promise<TextRun>;
  /** Stops the thread if it is still running (a caller that failed before asking for the result). */
  cancel(): void;
}

/**
 * runText on a worker thread, so that its one core works while the caller does something else (the paper suite
 * starts it before its first sweep). Same kernels, same seeds: the same numbers as runText.
 */
export function runTextInBackground(mode: TextMode, cacheDir: string, plan: TextPlan = textPlan(mode)): TextJob {
  const lines: string[] = [];
  let sink = (line: string): void => { lines.push(line); };
  const worker = moduleWorker(import.meta.url, './worker.js', { workerData: { mode, cacheDir, plan } satisfies TextWorkerData });
  // Once the promise is settled, a later reject (the thread's exit) is a no-op.
  const value = new Promise<TextRun>((resolveValue, reject) => {
    worker.on('message', (m: TextWorkerMessage) => {
      if (m.type === 'log') sink(m.line);
      else if (m.type === 'done') resolveValue(m.value);
      else reject(fromThreadError(m.error));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the text experiment's thread exited with code ${code}`)));
  });
  // Held until finish() is called: a failure before then must not surface as an unhandled rejection.
  value.catch(() => {});
  return {
    finish(log) {
      for (const line of lines.splice(0)) log(line);
      sink = log;
      return value;
    },
    cancel() {
      void worker.terminate();
    },
  };
}
