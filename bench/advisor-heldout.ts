/**
 * The advisor on batch-size sweeps that played no part in choosing its verdict rule: `paper --quick`'s protocol
 * (B ∈ {32, 128, 512, 2048}, 4 epochs, 10-point factor-2 η grid tuned on 1,000 held-out images, 3 final seeds, 5
 * more where 3 leave a tie unresolved) with another model–data pair than `paper --quick` (MLP on MNIST digits),
 * `paper --full` (narrow CNN on Fashion-MNIST) and the first held-out sweep (MLP on Fashion-MNIST,
 * `paper --quick --data fashion-mnist`). Runs only the batch-size sweep and the advisor; resumable like `paper`.
 *
 * The entries (`HELDOUT` below, each with its model), each committed before its first run. cnn-mnist,
 * tanh-mlp-fashion, transformer-mnist, transformer-small-mnist and gelu-mlp-mnist were seen while the advisor's rule
 * was chosen; gelu-mlp3-fashion, relu-mlp-narrow-fashion, tanh-mlp-mnist, relu-mlp-deep-mnist and
 * gelu-mlp-narrow-fashion were named only after it was fixed (docs/advisor-validation.md).
 *
 * Run: npm run build && node dist/bench/advisor-heldout.js NAME [OUT]   (default OUT: /root/.cache/momentum-lab/heldout-NAME)
 */
import { runPaperSuite, progressReporter } from '../src/experiments/index.js';
import { writePaperReport } from '../src/report/paper.js';
import { installNodeHost } from '../src/node/host.js';

installNodeHost();

const HELDOUT: Record<string, { data: string; model: Record<string, unknown>; label: string }> = {
  'cnn-mnist': { data: 'mnist', model: { kind: 'cnn', channels: [16, 32], dense: 128 }, label: 'the narrow CNN (conv 16 → conv 32 → dense 128) instead of the MLP' },
  'tanh-mlp-fashion': { data: 'fashion-mnist', model: { kind: 'mlp', hidden: [128, 128, 128], activation: 'tanh' }, label: 'a tanh MLP 784-128-128-128-10 instead of the ReLU MLP, on Fashion-MNIST' },
  'transformer-mnist': { data: 'mnist', model: { kind: 'transformer' }, label: 'the default transformer (7×7 patches, dim 64, 4 heads, 2 layers) instead of the MLP' },
  'transformer-small-mnist': { data: 'mnist', model: { kind: 'transformer', patch: 7, dim: 32, heads: 2, layers: 1 }, label: 'a small transformer (7×7 patches, dim 32, 2 heads, 1 layer) instead of the MLP' },
  'gelu-mlp3-fashion': { data: 'fashion-mnist', model: { kind: 'mlp', hidden: [256, 256, 256], activation: 'gelu' }, label: 'a GELU MLP 784-256-256-256-10 instead of the ReLU MLP, on Fashion-MNIST' },
  'relu-mlp-narrow-fashion': { data: 'fashion-mnist', model: { kind: 'mlp', hidden: [64, 64], activation: 'relu' }, label: 'a narrow ReLU MLP 784-64-64-10 instead of the 256-wide one, on Fashion-MNIST' },
  'tanh-mlp-mnist': { data: 'mnist', model: { kind: 'mlp', hidden: [256], activation: 'tanh' }, label: 'a one-hidden-layer tanh MLP 784-256-10 instead of the two-layer ReLU MLP' },
  'relu-mlp-deep-mnist': { data: 'mnist', model: { kind: 'mlp', hidden: [128, 128, 128, 128], activation: 'relu' }, label: 'a 4-hidden-layer ReLU MLP 784-128-128-128-128-10 instead of the two-layer 256-wide one' },
  'gelu-mlp-narrow-fashion': { data: 'fashion-mnist', model: { kind: 'mlp', hidden: [128], activation: 'gelu' }, label: 'a one-hidden-layer GELU MLP 784-128-10 instead of the two-layer ReLU MLP, on Fashion-MNIST' },
  'gelu-mlp-mnist': { data: 'mnist', model: { kind: 'mlp', hidden: [512], activation: 'gelu' }, label: 'a one-hidden-layer GELU MLP 784-512-10 instead of the two-layer ReLU MLP' },
};

const name = process.argv[2] ?? '';
const h = HELDOUT[name];
if (h === undefined) {
  process.stderr.write(`usage: node dist/bench/advisor-heldout.js NAME [OUT] (NAME: ${Object.keys(HELDOUT).join(', ')})\n`);
  process.exit(2);
}
const out = process.argv[3] ?? `/root/.cache/momentum-lab/heldout-${name}`;
const progress = progressReporter(process.stderr);
const result = await runPaperSuite({
  mode: 'quick',
  outDir: out,
  data: h.data,
  skip: ['svag', 'fine-tuning', 'theory', 'memory'],
  onProgress: progress.onProgress,
  log: (line) => process.stderr.write(`${line}\n`),
  planOverride: (p) => ({
    ...p,
    batchSweep: { ...p.batchSweep, model: h.model },
    reductions: [...p.reductions.filter((r) => !r.startsWith('MLP')), `held-out advisor check: ${h.label}`],
  }),
});
progress.done();
const files = await writePaperReport(result, out);
for (const c of result.claims) process.stdout.write(`${c.id.padEnd(12)} ${c.verdict.padEnd(14)} ${c.reason}\n`);
process.stdout.write(`claims: ${files.claims}\nreport: ${files.html}\n`);
