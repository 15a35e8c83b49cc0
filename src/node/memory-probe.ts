/**
 * Process entry (spawned by src/node/memory.ts): trains one model for a few steps on synthetic MNIST-shaped data
 * and prints `{"peakRssBytes": …}`, the peak resident memory of this whole process (engine, data, optimizer state).
 * A process of its own, so nothing else that ran before is counted.
 */
import { syntheticDataset } from '../core/data/synthetic.js';
import { train } from './train.js';
import { parseModelSpec } from '../core/nn/models.js';
import { optimizerConfig } from '../core/optim/index.js';
import { installNodeHost } from './host.js';
import { loadPlugins } from './plugins.js';
import type { PeakRssRun } from './memory.js';

installNodeHost();
await loadPlugins();
const run = JSON.parse(process.argv[2] ?? '') as Required<PeakRssRun>;
const sgd = run.optimizer === 'sgd';
await train({
  dataset: syntheticDataset({ shape: [1, 28, 28], classes: 10, train: 6000, test: 1000, seed: 0 }),
  model: parseModelSpec(run.model),
  optimizer: optimizerConfig({ form: sgd ? 'sgd' : 'pytorch', lr: 0.01, momentum: sgd ? 0 : 0.9, nesterov: false, weightDecay: 0 }),
  batch: run.batch, epochs: 1, seed: 0, svag: 1, inputs: 'standardize', threads: 1, maxSteps: run.steps,
});
process.stdout.write(JSON.stringify({ peakRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
