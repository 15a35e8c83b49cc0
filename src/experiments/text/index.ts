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
import { writeAtomically } from '../../node/atomic-write.js';
import { canonicalJson } from '../config.js';
import { runTextExperiment, type TextResult } from './experiment.js';
import { textPlan, type TextMode, type TextPlan } from './plan.js';

export { textPlan, type TextMode, type TextPlan } from './plan.js';
export type { TextResult } from './experiment.js';

export async function runText(mode: TextMode, cacheDir: string, log: (line: string) => void, plan: TextPlan = textPlan(mode)): Promise<{ plan: TextPlan; result: TextResult; cached: boolean }> {
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
