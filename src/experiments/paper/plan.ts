/**
 * What `momentum-lab paper` runs, in two sizes. `quick` is the same protocol shrunk to ~10 minutes on 2 cores with
 * the embedded MNIST digits (every reduction is listed in `reductions` and printed with the results); `full` is the
 * real protocol and takes hours.
 */
export type PaperMode = 'quick' | 'full';

export interface PaperPlan {
  mode: PaperMode;
  dataset: string;
  /** Experiment 1: the batch-size sweep (the paper's ImageNet experiment). */
  batchSweep: {
    model: string;
    epochs: number;
    batches: number[];
    /** Effective lr η grid, log-spaced; SGDM runs at γ = η(1−β). */
    lr: { min: number; max: number; num: number };
    momentum: number;
    /** Training samples held out to tune lr on (DeepOBS: select on validation, report test). */
    validation: number;
    finalSeeds: number[];
  };
  /** Experiment 2: SVAG at large batch (the paper's CIFAR-10 Fig. 2). */
  svag: { model: string; batch: number; epochs: number; levels: number[]; seeds: number[]; decayAt: [number, number] };
  /** Experiment 3: pre-train, then K-shot fine-tuning on a shifted task (the paper's RoBERTa experiment). */
  fineTune: {
    model: string;
    pretrainEpochs: number;
    shots: number[];
    dataSeeds: number[];
    /** Small effective lr grid, tuned per optimizer and K on the mean over data seeds. */
    lr: number[];
    steps: number;
    batch: number;
  };
  theory: string[];
  memoryModels: string[];
  reductions: string[];
}

export function paperPlan(mode: PaperMode, dataset: string): PaperPlan {
  if (mode === 'quick') {
    return {
      mode, dataset,
      batchSweep: {
        model: 'mlp', epochs: 4, batches: [32, 128, 512, 2048], lr: { min: 0.01, max: 5.12, num: 10 }, momentum: 0.9,
        validation: 1000, finalSeeds: [0, 1, 2],
      },
      svag: { model: 'mlp', batch: 1024, epochs: 8, levels: [1, 2, 4], seeds: [0, 1, 2], decayAt: [0.5, 0.75] },
      fineTune: { model: 'mlp', pretrainEpochs: 3, shots: [16, 64, 512], dataSeeds: [13, 21, 42, 87, 100], lr: [0.003, 0.01, 0.03], steps: 100, batch: 16 },
      theory: ['stationary', 'weak-approx', 'coupling', 'slow-sde', 'svag', 'curvature-vs-noise'],
      memoryModels: ['mlp', 'cnn', 'resnet20', 'transformer'],
      reductions: [
        'MLP 784-256-256-10 instead of a CNN/ResNet',
        'embedded MNIST (7,996 train / 2,004 test digits) unless --data names another set',
        'batch sizes 32…2048 (2048 is a quarter of the training set), 4 epochs',
        '10-point lr grid (factor 2), tuned on 1 seed with 1,000 held-out training samples, best re-run with 3 seeds',
        'SVAG at B = 1024 with ℓ ∈ {1, 2, 4} and 3 seeds',
        'fine-tuning: 100 steps at batch 16 after a 3-epoch pre-training',
      ],
    };
  }
  return {
    mode, dataset,
    batchSweep: {
      model: 'cnn', epochs: 10, batches: [32, 128, 512, 2048, 4096], lr: { min: 0.005, max: 10.24, num: 12 }, momentum: 0.9,
      validation: 5000, finalSeeds: [0, 1, 2],
    },
    svag: { model: 'cnn', batch: 2048, epochs: 20, levels: [1, 2, 4, 8], seeds: [0, 1, 2], decayAt: [0.5, 0.75] },
    fineTune: { model: 'cnn', pretrainEpochs: 5, shots: [16, 64, 512], dataSeeds: [13, 21, 42, 87, 100], lr: [0.001, 0.003, 0.01, 0.03], steps: 500, batch: 32 },
    theory: ['stationary', 'weak-approx', 'coupling', 'slow-sde', 'svag', 'curvature-vs-noise'],
    memoryModels: ['mlp', 'cnn', 'resnet20', 'transformer'],
    reductions: [],
  };
}
