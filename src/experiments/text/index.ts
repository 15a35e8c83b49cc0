/** The text fine-tuning experiment on Node: the corpus from its package, WebAssembly kernels, a JSON summary. */
import { float32Backend } from '../../core/engine/backend.js';
import { spamCorpus } from '../../node/data/text-corpus.js';
import { openKernels } from '../../node/kernels.js';
import { runTextExperiment, type TextResult } from './experiment.js';
import { textPlan, type TextMode, type TextPlan } from './plan.js';

export { textPlan, type TextMode, type TextPlan } from './plan.js';
export type { TextResult } from './experiment.js';

/** Runs the experiment with one-thread kernels; the pre-trained checkpoint is cached in (and reused from) `cacheDir`. */
export async function runText(mode: TextMode, cacheDir: string, log: (line: string) => void, plan: TextPlan = textPlan(mode)): Promise<{ plan: TextPlan; result: TextResult }> {
  const { kernels, owned } = await openKernels({ threads: 1 });
  try {
    const result = runTextExperiment(plan, spamCorpus().parts, { cacheDir, backend: float32Backend(kernels), log });
    return { plan, result };
  } finally {
    if (owned) kernels.dispose();
  }
}
