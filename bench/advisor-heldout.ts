/**
 * The advisor on a batch-size sweep that played no part in choosing its verdict rule: `paper --quick`'s protocol
 * (B ∈ {32, 128, 512, 2048}, 4 epochs, 10-point factor-2 η grid tuned on 1,000 held-out digits, 3 final seeds) with
 * the full protocol's narrow CNN (conv 16 → conv 32 → dense 128) on the embedded MNIST digits — a model–data pair
 * that neither `paper --quick` (MLP on MNIST) nor `paper --full` (CNN on Fashion-MNIST) nor the first held-out sweep
 * (MLP on Fashion-MNIST) used. Runs only the batch-size sweep and the advisor; resumable like `paper`.
 * Run: npm run build && node dist/bench/advisor-heldout.js [OUT]   (default OUT: /root/.cache/momentum-lab/heldout-cnn-mnist)
 */
import { runPaperSuite, progressReporter } from '../src/experiments/index.js';
import { writePaperReport } from '../src/report/paper.js';

const out = process.argv[2] ?? '/root/.cache/momentum-lab/heldout-cnn-mnist';
const cnn = { kind: 'cnn', channels: [16, 32], dense: 128 };
const progress = progressReporter(process.stderr);
const result = await runPaperSuite({
  mode: 'quick',
  outDir: out,
  data: 'mnist',
  skip: ['svag', 'fine-tuning', 'theory', 'memory'],
  onProgress: progress.onProgress,
  log: (line) => process.stderr.write(`${line}\n`),
  planOverride: (p) => ({
    ...p,
    batchSweep: { ...p.batchSweep, model: cnn },
    reductions: [...p.reductions.filter((r) => !r.startsWith('MLP')), 'held-out advisor check: the narrow CNN (conv 16 → conv 32 → dense 128) instead of the MLP'],
  }),
});
progress.done();
const files = await writePaperReport(result, out);
for (const c of result.claims) process.stdout.write(`${c.id.padEnd(12)} ${c.verdict.padEnd(14)} ${c.reason}\n`);
process.stdout.write(`claims: ${files.claims}\nreport: ${files.html}\n`);
