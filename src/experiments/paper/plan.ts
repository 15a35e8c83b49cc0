/**
 * What `momentum-lab paper` runs, in two sizes. `quick` is the same protocol shrunk to minutes on 2 cores with the
 * embedded MNIST digits, at a constant lr (every reduction is listed in `reductions` and printed with the results);
 * `full` is the full protocol at CPU scale, with linear warm-up and ×0.1 step decays, and takes hours on 2 cores.
 */
import { findModelFamily } from '../../core/nn/models.js';

export type PaperMode = 'quick' | 'full';

/** A model as the train task takes it: a name (mlp, cnn, …) or a spec object (see nn/models.ts). */
export type PlanModel = string | Record<string, unknown>;

/** How logs and the report name a plan's model. */
export function modelLabel(m: PlanModel): string {
  if (typeof m === 'string') return m;
  return findModelFamily(m.kind)?.label(m) ?? JSON.stringify(m);
}

export interface PaperPlan {
  mode: PaperMode;
  dataset: string;
  /** The equivalence margin δ of every SGD/SGDM comparison (accuracy, so 0.01 = 1 percentage point). */
  margin: number;
  /** Experiment 1: the batch-size sweep (the paper's ImageNet experiment). */
  batchSweep: {
    model: PlanModel;
    epochs: number;
    batches: number[];
    /** Effective lr η grid, log-spaced; SGDM runs at γ = η(1−β). */
    lr: { min: number; max: number; num: number };
    /**
     * Linear warm-up over this fraction of a run's steps, then ×0.1 at these fractions (steps counted per B); null:
     * a constant lr.
     */
    schedule: { warmup: number; decayAt: number[] } | null;
    momentum: number;
    /** Training samples held out to tune lr on (DeepOBS: select on validation, report test). */
    validation: number;
    finalSeeds: number[];
    /**
     * Seeds added, stage by stage, to both final runs at a batch size whose comparison is still inconclusive
     * (claims.ts `inconclusiveBatches`), up to the last stage. The claims are judged on all seeds run.
     */
    extraSeeds: number[][];
    /** Matched-lr agreement (Thm 3.5): the `count` smallest grid η at every B, both optimisers, these seeds. */
    matched: { count: number; seeds: number[] };
  };
  /** Experiment 2: SVAG at large batch (the paper's CIFAR-10 Fig. 2). */
  svag: { model: PlanModel; batch: number; epochs: number; levels: number[]; seeds: number[]; decayAt: [number, number] };
  /** Experiment 3: pre-train, then K-shot fine-tuning on a shifted task (the paper's RoBERTa experiment). */
  fineTune: {
    model: PlanModel;
    pretrainEpochs: number;
    shots: number[];
    dataSeeds: number[];
    /**
     * Small effective lr grid, tuned per optimizer and K on the mean validation accuracy over data seeds; the
     * validation split is the next min(K, maxValidationShot) examples per class of the same seeded draw, never test.
     */
    lr: number[];
    maxValidationShot: number;
    steps: number;
    batch: number;
  };
  theory: string[];
  /** Models whose optimizer state is measured (names or specs); full mode includes the CNN it trains. */
  memoryModels: PlanModel[];
  reductions: string[];
}

/** Seeds 3–7, then 8–15: the final runs grow from 3 to 8 to 16 seeds where a comparison stays inconclusive. */
const EXTRA_SEEDS = [[3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]];
const MATCHED = { count: 3, seeds: [0, 1, 2] };

export function paperPlan(mode: PaperMode, dataset: string): PaperPlan {
  if (mode === 'quick') {
    return {
      mode, dataset, margin: 0.01,
      batchSweep: {
        model: 'mlp', epochs: 4, batches: [32, 128, 512, 2048], lr: { min: 0.01, max: 5.12, num: 10 }, schedule: null, momentum: 0.9,
        validation: 1000, finalSeeds: [0, 1, 2], extraSeeds: EXTRA_SEEDS.slice(0, 1), matched: MATCHED,
      },
      svag: { model: 'mlp', batch: 1024, epochs: 8, levels: [1, 2, 4], seeds: [0, 1, 2], decayAt: [0.5, 0.75] },
      fineTune: { model: 'mlp', pretrainEpochs: 3, shots: [16, 64, 512], dataSeeds: [13, 21, 42, 87, 100], lr: [0.003, 0.01, 0.03], maxValidationShot: 128, steps: 100, batch: 16 },
      theory: ['stationary', 'weak-approx', 'coupling', 'slow-sde', 'svag', 'curvature-vs-noise'],
      memoryModels: ['mlp', 'cnn', 'resnet20', 'transformer'],
      reductions: [
        'MLP 784-256-256-10 instead of a CNN/ResNet',
        'embedded MNIST (7,996 train / 2,004 test digits) unless --data names another set',
        'batch sizes 32…2048 (2048 is a quarter of the training set), 4 epochs at a constant lr (no warm-up or decays)',
        '10-point lr grid (factor 2), tuned on 1 seed with 1,000 held-out training samples, best re-run with 3 seeds (8 where the comparison is inconclusive; the full protocol goes on to 16)',
        'matched-lr agreement on the 3 smallest η of the grid with 3 seeds',
        'SVAG at B = 1024 with ℓ ∈ {1, 2, 4} and 3 seeds',
        'fine-tuning: 100 steps at batch 16 after a 3-epoch pre-training, lr chosen on min(K, 128) validation examples per class',
      ],
    };
  }
  // The full protocol at CPU scale: every experiment of the paper (B 32…2048, ℓ up to 8, K-shot 16/64/512 with five
  // data seeds, three final seeds growing to 16 where inconclusive) on a narrow CNN, with the paper's schedule shape
  // (linear warm-up, ×0.1 decays) and 8 epochs, so that the largest batch still takes ≥ 200 steps (55,000 / 2048 → 26
  // per epoch, 208 in all). Where it is smaller than the paper, `reductions` says so.
  const cnn = { kind: 'cnn', channels: [16, 32], dense: 128 };
  return {
    mode, dataset, margin: 0.01,
    batchSweep: {
      model: cnn, epochs: 8, batches: [32, 128, 512, 2048], lr: { min: 0.01, max: 5.12, num: 10 }, schedule: { warmup: 0.05, decayAt: [0.5, 0.75] },
      momentum: 0.9, validation: 5000, finalSeeds: [0, 1, 2], extraSeeds: EXTRA_SEEDS, matched: MATCHED,
    },
    svag: { model: cnn, batch: 2048, epochs: 3, levels: [1, 2, 4, 8], seeds: [0, 1, 2], decayAt: [0.5, 0.75] },
    fineTune: { model: cnn, pretrainEpochs: 3, shots: [16, 64, 512], dataSeeds: [13, 21, 42, 87, 100], lr: [0.001, 0.003, 0.01, 0.03], maxValidationShot: 128, steps: 300, batch: 32 },
    theory: ['stationary', 'weak-approx', 'coupling', 'slow-sde', 'svag', 'curvature-vs-noise'],
    memoryModels: [cnn, 'mlp', 'cnn', 'resnet20', 'transformer'],
    reductions: [
      'a narrow CNN (conv 16 → conv 32 → dense 128, 109k parameters) instead of ImageNet ResNet-50 / CIFAR ResNet',
      'Fashion-MNIST (60,000 / 10,000) instead of ImageNet and CIFAR-10; fine-tuning on MNIST digits instead of RoBERTa on text',
      'an 8-epoch budget with 5% linear warm-up and ×0.1 decays at 50% and 75% (the paper trains 90 epochs on ImageNet); B ∈ {32, 128, 512, 2048}, so B = 2048 gets 208 tuning steps',
      '10-point lr grid (factor 2, 0.01…5.12) tuned on 1 seed with 5,000 held-out training images, best re-run with 3 seeds (8, then 16, where the comparison is inconclusive)',
      'matched-lr agreement on the 3 smallest η of the grid with 3 seeds',
      'SVAG at B = 2048 for 3 effective epochs with ℓ ∈ {1, 2, 4, 8} and 3 seeds',
      'fine-tuning: 300 steps at batch 32 after a 3-epoch pre-training, lr chosen on min(K, 128) validation examples per class',
    ],
  };
}
