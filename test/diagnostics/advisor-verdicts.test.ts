// bench/advisor-verdicts.ts over the committed sweeps: every advisor probe in results/*/claims.json, rebuilt from its
// recorded numbers, must be judged as the file records (regime, deciding rule, disagreement, escalation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkClaimsFile, committedClaims, probeInput, sweepMomentum, type ProbeRow } from '../../bench/advisor-verdicts.js';
import { adviseFromMeasurements } from '../../src/core/advisor/verdict.js';

// dist/test/diagnostics → the repository root.
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('every committed advisor probe is judged as recorded', () => {
  const files = committedClaims(root);
  // 11 held-out sweeps + paper-full + paper-full-3-epochs + paper-quick, 4 batch sizes each and 5 in
  // paper-full-3-epochs: 57 probes.
  assert.ok(files.length >= 14, files.join(', '));
  const rows = files.flatMap(checkClaimsFile);
  assert.ok(rows.length >= 57, `${rows.length} probes`);
  const differ = rows.filter((r) => !r.ok);
  assert.deepEqual(differ.map((r) => `${r.file} B = ${r.batch}: ${r.recorded} → ${r.rebuilt}`), []);
});

test('the rebuilt input of paper-quick B = 128: escalated after the probe\'s rules disagreed', () => {
  const c = JSON.parse(readFileSync(`${root}results/paper-quick/claims.json`, 'utf8')) as { claims: { id: string; statement: string; measurements: ProbeRow[] }[] };
  const momentum = sweepMomentum(c.claims.find((x) => x.id === 'batch-size')!.statement);
  assert.equal(momentum, 0.9);
  const row = c.claims.find((x) => x.id === 'advisor')!.measurements.find((r) => r.batch === 128)!;
  // The 100-step probe alone: B/B_noise = 128/712 = 0.18 ≤ 2 says noise-dominated, SGD at η past its edge (ηλ = 4.07)
  // and at η/2 +20% behind say curvature-limited.
  const first = adviseFromMeasurements(probeInput(row, momentum, false));
  assert.equal(first.decision.decidedBy, 'noise-scale');
  assert.equal(first.decision.disagreement?.regime, 'curvature-limited');
  // With the three whole-run seeds: SGD at η/2 ended +0.11% behind on the mean ⇒ noise-dominated.
  const v = adviseFromMeasurements(probeInput(row, momentum, true));
  assert.equal(v.decision.decidedBy, 'whole-run');
  assert.equal(v.regime, 'noise-dominated');
  assert.ok(Math.abs(v.numbers.wholeRunGaps![1]!.gap - 0.001076404804149632) < 1e-12);
});

test('a recorded verdict that the rules do not give is reported', () => {
  // paper-quick B = 2048 covered its budget of 12 steps and SGD at η/2 ended +53% behind on the mean: curvature-limited.
  // Recorded as noise-dominated instead, the check must flag it.
  const c = JSON.parse(readFileSync(`${root}results/paper-quick/claims.json`, 'utf8')) as { claims: { id: string; measurements: ProbeRow[] }[] };
  const row = c.claims.find((x) => x.id === 'advisor')!.measurements.find((r) => r.batch === 2048)!;
  assert.equal(row.regime, 'curvature-limited');
  row.regime = 'noise-dominated';
  const file = join(mkdtempSync(join(tmpdir(), 'mlab-verdicts-')), 'claims.json');
  writeFileSync(file, JSON.stringify(c));
  const checked = checkClaimsFile(file);
  assert.deepEqual(checked.map((r) => [r.batch, r.ok]), [[32, true], [128, true], [512, true], [2048, false]]);
  assert.equal(checked[3]!.rebuilt, 'curvature-limited by whole-run');
});
