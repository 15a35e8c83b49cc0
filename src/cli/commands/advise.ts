import { float32Backend } from '../../engine/backend.js';
import { loadDataset } from '../../data/index.js';
import { parseAdviseConfig, type AdviseConfig } from '../../diagnostics/config.js';
import { engineProblem, linearRegressionProblem, runProbe, type ProbeProblem, type ProbeResult } from '../../diagnostics/probe.js';
import { formatVerdict } from '../../diagnostics/verdict.js';
import { kernelsFor, syntheticDataset, type DatasetLike } from '../../nn/train.js';
import { optimizerConfig, optimizerRecord } from '../../optim/sgd.js';
import { check, UserError } from '../../util/errors.js';
import { readJsonFile } from '../io.js';
import type { Command } from '../command.js';

async function buildProblem(c: AdviseConfig, threads: number | undefined): Promise<{ problem: ProbeProblem; dispose(): void }> {
  if (c.problem === 'linear-regression') return { problem: linearRegressionProblem({ seed: c.seed }), dispose() {} };
  const data: DatasetLike = c.dataset === 'synthetic'
    ? syntheticDataset({ shape: [1, 8, 8], classes: 4, train: 4096, test: 256, seed: c.seed + 1 })
    : await loadDataset(c.dataset!, c.dataDir !== null ? { dataDir: c.dataDir } : {});
  check(data.train.n >= c.batch, 'batch', `batch ${c.batch} is larger than the training split (${data.train.n} samples)`);
  const { kernels, owned } = await kernelsFor(threads);
  const problem = engineProblem({ model: c.model!, data, seed: c.seed, backend: float32Backend(kernels), maxBatch: c.batch, measureSamples: c.measureSamples });
  return { problem, dispose: () => { if (owned) kernels.dispose(); } };
}

function report(c: AdviseConfig, r: ProbeResult): Record<string, unknown> {
  return {
    config: c,
    problem: r.problem,
    probe: { steps: r.steps, diverged: r.diverged, divergedAtStep: r.divergedAtStep, lossIncreased: r.lossIncreased, initialMeasureLoss: r.initialMeasureLoss, checkpoints: r.checkpoints },
    lambdaMax: r.lambdaMax,
    noise: r.noise,
    ...r.verdict,
  };
}

export const adviseCommand: Command = {
  path: ['advise'],
  summary: 'probe a training config and say whether momentum is worth its memory (ηλ_max, B_noise, stationary split)',
  usage: 'momentum-lab advise CONFIG [--probe-steps N] [--json]   (CONFIG: {"model", "dataset", "batch", "lr", "momentum", "form"} or {"problem": "linear-regression", ...})',
  flags: {
    'probe-steps': { kind: 'int', help: 'optimizer steps of the probe run', default: 100 },
    checkpoints: { kind: 'int', help: 'measurements (λ_max, noise) along the probe', default: 3 },
    'lanczos-steps': { kind: 'int', help: 'Hessian-vector products per λ_max measurement', default: 12 },
    threads: { kind: 'int', help: 'kernel threads for engine models (default: all cores)' },
    json: { kind: 'boolean', help: 'print one JSON object (verdict, numbers, probe checkpoints)' },
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new UserError(`advise takes one CONFIG file, got ${positionals.length} arguments (usage: momentum-lab advise CONFIG [--probe-steps N] [--json])`);
    const steps = flags['probe-steps'] as number;
    check(steps >= 1, '--probe-steps', `must be ≥ 1, got ${steps}`);
    const checkpoints = flags.checkpoints as number;
    check(checkpoints >= 1 && checkpoints <= steps, '--checkpoints', `must be in [1, --probe-steps], got ${checkpoints}`);
    const lanczosSteps = flags['lanczos-steps'] as number;
    check(lanczosSteps >= 2, '--lanczos-steps', `must be ≥ 2, got ${lanczosSteps}`);
    const file = positionals[0]!;
    const c = parseAdviseConfig(readJsonFile(file, 'config'), file);
    const optimizer = optimizerConfig({ form: c.form, lr: c.lr, momentum: c.momentum });
    const { problem, dispose } = await buildProblem(c, flags.threads as number | undefined);
    const json = flags.json === true;
    try {
      const r = runProbe(problem, {
        steps, batch: c.batch, optimizer, checkpoints, lanczosSteps, seed: c.seed,
        onCheckpoint: json ? undefined : (k) => process.stderr.write(`step ${k.step}: loss ${k.loss.toPrecision(4)}, λ_max ${k.lambdaMax.toPrecision(4)}, B_noise ${k.noise.bNoise.toPrecision(3)} (${k.seconds.toFixed(1)} s)\n`),
      });
      if (json) process.stdout.write(JSON.stringify({ ...report(c, r), optimizer: optimizerRecord(optimizer) }) + '\n');
      else process.stdout.write(`${r.problem}, B = ${c.batch}, ${c.form} lr ${c.lr}, β ${c.momentum}, ${steps} probe steps\n${formatVerdict(r.verdict)}\n`);
    } finally {
      dispose();
    }
  },
};
