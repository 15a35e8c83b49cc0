// Verdict logic of the paper suite on hand-made measurements whose verdict is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSizeClaim, fineTuneClaim, memoryClaim, svagClaim, unresolvedTie } from '../../src/experiments/paper/claims.js';

const s = (mean: number, std = 0.002, n = 3) => ({ mean, std, n });

test('batch-size claim: agree at small B, SGDM ahead at the largest → supported', () => {
  // Gaps 0.1 pp and 0.2 pp are under the 0.5 pp floor; at B = 2048 the gap is 3 pp ≫ 2·SE = 2·√(2·0.002²/3) = 0.33 pp.
  const c = batchSizeClaim([{ batch: 32, sgd: s(0.95), sgdm: s(0.951) }, { batch: 512, sgd: s(0.94), sgdm: s(0.942) }, { batch: 2048, sgd: s(0.90), sgdm: s(0.93) }]);
  assert.equal(c.verdict, 'supported', c.reason);
});

test('batch-size claim: SGDM better already at small B → not supported; no large-B advantage → inconclusive', () => {
  assert.equal(batchSizeClaim([{ batch: 32, sgd: s(0.90), sgdm: s(0.95) }, { batch: 2048, sgd: s(0.90), sgdm: s(0.95) }]).verdict, 'not supported');
  assert.equal(batchSizeClaim([{ batch: 32, sgd: s(0.95), sgdm: s(0.95) }, { batch: 2048, sgd: s(0.93), sgdm: s(0.931) }]).verdict, 'inconclusive');
  // The reason lists which optimiser is higher at every B, so a threshold below the largest B is visible.
  const c = batchSizeClaim([{ batch: 32, sgd: s(0.95), sgdm: s(0.95) }, { batch: 512, sgd: s(0.90), sgdm: s(0.93) }, { batch: 4096, sgd: s(0.80), sgdm: s(0.801) }]);
  assert.equal(c.verdict, 'not supported');
  assert.match(c.reason, /\(higher by B: 32 same, 512 SGDM, 4096 same\)$/);
});

test('seed noise widens "agree": a 1 pp gap with std 2 pp over 3 seeds is the same (2·SE = 3.27 pp)', () => {
  const c = batchSizeClaim([{ batch: 32, sgd: s(0.90, 0.02), sgdm: s(0.91, 0.02) }, { batch: 4096, sgd: s(0.80), sgdm: s(0.90) }]);
  assert.equal(c.verdict, 'supported', c.reason);
  assert.ok(Math.abs((c.measurements[0]!.noise as number) - 2 * Math.sqrt((2 * 0.02 ** 2) / 3)) < 1e-12);
});

test('SVAG claim: gap 3 pp at ℓ = 1 shrinking to 0.2 pp → supported; gap that stays → not supported', () => {
  assert.equal(svagClaim([{ l: 1, sgd: s(0.90), sgdm: s(0.93) }, { l: 4, sgd: s(0.925), sgdm: s(0.93) }, { l: 8, sgd: s(0.928), sgdm: s(0.93) }]).verdict, 'supported');
  assert.equal(svagClaim([{ l: 1, sgd: s(0.90), sgdm: s(0.93) }, { l: 8, sgd: s(0.90), sgdm: s(0.93) }]).verdict, 'not supported');
  assert.equal(svagClaim([{ l: 1, sgd: s(0.93), sgdm: s(0.93) }, { l: 8, sgd: s(0.93), sgdm: s(0.93) }]).verdict, 'inconclusive');
});

test('fine-tuning claim uses the seed std itself as the tolerance', () => {
  assert.equal(fineTuneClaim([{ k: 16, sgd: s(0.60, 0.03, 5), sgdm: s(0.62, 0.03, 5) }]).verdict, 'supported'); // 2 pp ≤ 3 pp std
  assert.equal(fineTuneClaim([{ k: 16, sgd: s(0.60, 0.01, 5), sgdm: s(0.65, 0.01, 5) }]).verdict, 'not supported'); // 5 pp > 1 pp std
});

test('memory claim: SGDM state must be exactly 4 bytes per parameter and SGD none', () => {
  assert.equal(memoryClaim([{ model: 'mlp', parameters: 269322, sgdStateBytes: 0, sgdmStateBytes: 1077288 }]).verdict, 'supported');
  assert.equal(memoryClaim([{ model: 'mlp', parameters: 269322, sgdStateBytes: 0, sgdmStateBytes: 2154576 }]).verdict, 'not supported');
});

test('an unresolved tie (noise band > 2 pp) asks for more seeds; a resolved tie or a clear gap does not', () => {
  // Held-out CNN-on-digits B = 2048 (3 seeds): SGD 0.6171 ± 0.1212, SGDM 0.7206 ± 0.0246 ⇒ 2·SE = 2·√(0.1212²/3 +
  // 0.0246²/3) = 14.28 pp ≥ the 10.35 pp gap: a tie, and far too noisy to say who won.
  assert.equal(unresolvedTie({ sgd: s(0.6171, 0.1212), sgdm: s(0.7206, 0.0246) }), true);
  // Full sweep B = 32: 0.8875 ± 0.0049 vs 0.8897 ± 0.0037 ⇒ 2·SE = 0.71 pp ≤ 2 pp: a resolved tie.
  assert.equal(unresolvedTie({ sgd: s(0.8875, 0.0049), sgdm: s(0.8897, 0.0037) }), false);
  // Full sweep B = 2048: +10.6 pp against 2·SE = 7.3 pp ⇒ SGDM won; nothing to add.
  assert.equal(unresolvedTie({ sgd: s(0.7142, 0.0629), sgdm: s(0.8202, 0.0059) }), false);
});
