// scripts/compare-claims.ts: the committed paper --quick claims against themselves and against edited copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareJson } from '../../scripts/compare-claims.js';
import { packageRoot } from '../../src/node/package-root.js';

const claims = (): { claims: { id: string; reason: string; measurements: Record<string, unknown>[] }[] } =>
  JSON.parse(readFileSync(join(packageRoot(), 'results/paper-quick/claims.json'), 'utf8'));

test('a claims file equals itself: every value compared, only the time and memory readings set aside', () => {
  const r = compareJson(claims(), claims());
  assert.deepEqual(r.differences, []);
  assert.ok(r.compared > 500, `compared ${r.compared} values`);
  assert.ok(r.ignored.includes('.seconds'));
});

test('one changed accuracy is reported with its path; a changed peak RSS is not a difference', () => {
  const a = claims(), b = claims();
  const batch = b.claims.find((c) => c.id === 'batch-size')!;
  batch.measurements[0]!['sgdMean'] = (batch.measurements[0]!['sgdMean'] as number) + 1e-12;
  const memory = b.claims.find((c) => c.id === 'memory')!;
  memory.measurements[0]!['sgdPeakRss'] = 1;
  memory.reason = memory.reason.replace(/peak RSS \d+ → \d+ MiB/, 'peak RSS 1 → 2 MiB');
  const r = compareJson(a, b);
  assert.equal(r.differences.length, 1);
  assert.match(r.differences[0]!, new RegExp(`^\\.claims\\[${a.claims.findIndex((c) => c.id === 'batch-size')}\\]\\.measurements\\[0\\]\\.sgdMean: `));
  assert.ok(r.ignored.some((p) => p.endsWith('.reason (time or memory inside the text)')));
});

test('a missing key and a shorter list are differences', () => {
  const r = compareJson({ a: [1, 2], b: 1 }, { a: [1] });
  assert.deepEqual(r.differences, ['.a: 2 entries vs 1', '.b: only in the first file']);
});
