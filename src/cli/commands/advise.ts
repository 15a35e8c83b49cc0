import { adviseConfig } from '../../node/advise.js';
import { parseAdviseConfig } from '../../core/advisor/config.js';
import { formatVerdict } from '../../core/advisor/verdict.js';
import { WHOLE_RUN_MAX_STEPS } from '../../core/advisor/probe.js';
import { optimizerConfig, optimizerRecord } from '../../core/optim/sgd.js';
import { check, UserError } from '../../core/util/errors.js';
import { readJsonFile } from '../io.js';
import { loadUserData } from '../../node/data/user-data.js';
import type { Command } from '../command.js';

export const adviseCommand: Command = {
  path: ['advise'],
  summary: 'probe a training config and say whether momentum is worth its memory (ηλ_max, B_noise, stationary split)',
  usage: 'momentum-lab advise CONFIG [--probe-steps N] [--seeds N] [--whole-run-max-steps N] [--json]   (CONFIG: {"model", "dataset" or "data": FILE, "batch", "lr", "momentum", "form", "epochs"} or {"problem": "linear-regression", ...})',
  positionals: 1,
  flags: {
    'probe-steps': { kind: 'int', help: 'optimizer steps of the probe run (fewer when the config\'s "epochs" budget is shorter)', default: 100 },
    checkpoints: { kind: 'int', help: 'measurements (λ_max, noise) along the probe', default: 3 },
    'lanczos-steps': { kind: 'int', help: 'Hessian-vector products per λ_max measurement', default: 12 },
    seeds: { kind: 'int', help: 'seeds of the coupled SGD-vs-SGDM comparison over the run\'s whole "epochs" budget (judged on the mean)', default: 3 },
    'whole-run-max-steps': { kind: 'int', help: 'when a shorter probe\'s rules disagree, repeat the coupled runs over the whole budget if it is at most this many steps (0: never)', default: WHOLE_RUN_MAX_STEPS },
    threads: { kind: 'int', threads: true, help: 'kernel threads for engine models (default: all cores)' },
    json: { kind: 'boolean', help: 'print one JSON object (verdict, numbers, probe checkpoints)' },
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new UserError(`advise takes one CONFIG file, got ${positionals.length} arguments (usage: momentum-lab advise CONFIG [--probe-steps N] [--json])`);
    const steps = flags['probe-steps'] as number;
    check(steps >= 1, '--probe-steps', `--probe-steps: must be ≥ 1, got ${steps}`);
    const checkpoints = flags.checkpoints as number;
    check(checkpoints >= 1 && checkpoints <= steps, '--checkpoints', `--checkpoints: must be in [1, --probe-steps], got ${checkpoints}`);
    const lanczosSteps = flags['lanczos-steps'] as number;
    check(lanczosSteps >= 2, '--lanczos-steps', `--lanczos-steps: must be ≥ 2, got ${lanczosSteps}`);
    const seeds = flags.seeds as number;
    check(seeds >= 1, '--seeds', `--seeds: must be ≥ 1, got ${seeds}`);
    const maxSteps = flags['whole-run-max-steps'] as number;
    check(maxSteps >= 0, '--whole-run-max-steps', `--whole-run-max-steps: must be ≥ 0, got ${maxSteps}`);
    const file = positionals[0]!;
    const c = parseAdviseConfig(readJsonFile(file, 'config'), file);
    const json = flags.json === true;
    const r = await adviseConfig(c, {
      ...(c.data !== undefined ? { data: loadUserData(c.data) } : {}),
      probeSteps: steps, checkpoints, lanczosSteps, wholeRunSeeds: seeds, wholeRunMaxSteps: maxSteps,
      ...(flags.threads !== undefined ? { threads: flags.threads as number } : {}),
      ...(json ? {} : { onCheckpoint: (k) => process.stderr.write(`step ${k.step}: loss ${k.loss.toPrecision(4)}, λ_max ${k.lambdaMax.toPrecision(4)}, B_noise ${k.noise.bNoise.toPrecision(3)} (${k.seconds.toFixed(1)} s)\n`) }),
    });
    if (json) {
      // JSON has no Infinity: a B_noise of null inside `noise`/`numbers` means |∇L|² was estimated ≤ 0 (noise swamps it).
      process.stdout.write(JSON.stringify({
        config: c, optimizer: optimizerRecord(optimizerConfig({ form: c.form, lr: c.lr, momentum: c.momentum })), problem: r.problem,
        probe: {
          steps: r.steps, diverged: r.diverged, divergedAtStep: r.divergedAtStep, lossIncreased: r.lossIncreased, initialMeasureLoss: r.initialMeasureLoss,
          initialEvalLoss: r.initialEvalLoss, evalLoss: r.evalLoss, checkpoints: r.checkpoints, coupledSeeds: r.coupledSeeds,
        },
        lambdaMax: r.lambdaMax, noise: r.noise, ...r.verdict,
      }) + '\n');
    } else {
      process.stdout.write(`${r.problem}, B = ${c.batch}, ${c.form} lr ${c.lr}, β ${c.momentum}, ${r.steps} probe steps${r.verdict.numbers.budgetSteps === null ? ' (run budget not given: add "epochs" to the config)' : ` of the run's ${r.verdict.numbers.budgetSteps}`}\n${formatVerdict(r.verdict)}\n`);
    }
  },
};
