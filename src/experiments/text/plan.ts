/**
 * The text fine-tuning experiment in two sizes. `quick` fits the paper suite's quick budget (a few minutes on one
 * core); `full` runs the protocol of the paper's few-shot experiment at this model's scale (about an hour on 2 cores).
 */
export type TextMode = 'quick' | 'full';

export interface TextPlan {
  mode: TextMode;
  tokenizer: { vocabSize: number; minCount: number };
  model: { seqLen: number; dim: number; heads: number; layers: number };
  pretrain: {
    /** Windows of T − 2 tokens taken from the start of each pre-training document, at most this many. */
    maxPerDoc: number;
    slots: number;
    steps: number;
    batch: number;
    /** SGDM in PyTorch's form: γ, β; linear warm-up over `warmup` of the steps, then linear decay to 0. */
    lr: number;
    momentum: number;
    warmup: number;
    /** Held-out MLM loss measured every `evalEvery` steps (the pre-training curve). */
    evalEvery: number;
    seed: number;
  };
  fineTune: {
    /** Tasks run (`spam`: ham vs spam; `ham3`: easy ham / hard ham / spam). */
    tasks: ('spam' | 'ham3')[];
    shots: number[];
    dataSeeds: number[];
    /** Effective lr grid η; SGDM runs at γ = η(1 − β). */
    lr: number[];
    momentum: number;
    steps: number;
    batch: number;
    maxValidationShot: number;
    /** Rows besides prompt fine-tuning of the pre-trained model, at K = the smallest shot. */
    controls: ('random-init' | 'linear-head')[];
  };
  margin: number;
  reductions: string[];
}

export function textPlan(mode: TextMode): TextPlan {
  const common = {
    tokenizer: { vocabSize: 3000, minCount: 2 },
    margin: 0.01,
  };
  if (mode === 'quick') {
    return withReductions({
      mode, ...common,
      model: { seqLen: 32, dim: 64, heads: 4, layers: 2 },
      pretrain: { maxPerDoc: 8, slots: 6, steps: 300, batch: 32, lr: 0.05, momentum: 0.9, warmup: 0.05, evalEvery: 100, seed: 0 },
      fineTune: { tasks: ['spam'], shots: [16, 64], dataSeeds: [13, 21, 42], lr: [0.01, 0.03], momentum: 0.9, steps: 40, batch: 8, maxValidationShot: 32, controls: ['random-init', 'linear-head'] },
      reductions: [],
    });
  }
  return withReductions({
    mode, ...common,
    model: { seqLen: 64, dim: 64, heads: 4, layers: 2 },
    pretrain: { maxPerDoc: 16, slots: 10, steps: 3000, batch: 32, lr: 0.05, momentum: 0.9, warmup: 0.05, evalEvery: 250, seed: 0 },
    fineTune: { tasks: ['spam', 'ham3'], shots: [16, 64, 512], dataSeeds: [13, 21, 42, 87, 100], lr: [0.003, 0.01, 0.03, 0.1], momentum: 0.9, steps: 100, batch: 8, maxValidationShot: 128, controls: ['random-init', 'linear-head'] },
    reductions: [],
  });
}

/** What the plan leaves out of the paper's RoBERTa-large few-shot protocol, in words, from its own numbers. */
function withReductions(p: TextPlan): TextPlan {
  const m = p.model, pt = p.pretrain, ft = p.fineTune;
  return {
    ...p,
    reductions: [
      `a ${m.layers}-layer transformer (dim ${m.dim}, ${m.heads} heads, T = ${m.seqLen} tokens, BPE vocabulary ${p.tokenizer.vocabSize}) instead of RoBERTa-large (24 layers, dim 1024, T = 512)`,
      `masked-LM pre-training for ${pt.steps} steps of ${pt.batch} windows on the 2,004 SpamAssassin email bodies of the pre-training part, with SGDM (the engine has no Adam), instead of RoBERTa's 160 GB corpus`,
      `${ft.tasks.length === 1 ? 'one task (ham vs spam)' : 'two tasks (ham vs spam; easy ham / hard ham / spam)'} from one corpus instead of SST-2, SST-5, SNLI, TREC and MNLI`,
      `K ∈ {${ft.shots.join(', ')}} per class where the train part has that many, data seeds ${ft.dataSeeds.join(', ')}, lr grid η ∈ {${ft.lr.join(', ')}}, ${ft.steps} steps at batch ${ft.batch} with a constant lr, validation min(K, ${ft.maxValidationShot}) per class`,
      'controls at the smallest K with SGDM only',
    ],
  };
}
