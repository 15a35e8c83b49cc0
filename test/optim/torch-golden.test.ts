// Golden traces: torch.optim.SGD in float64 (fixtures from scripts/gen_fixtures_optim.py, Debian python3-torch)
// against momentum-lab's optimizer core through the `optim trace` spec. Match to 1e-12 absolute on every iterate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceSpec, runTrace } from '../../src/core/optim/trace.js';
import { maxAbsDiff, readFixture } from '../helpers.js';

interface Case { name: string; spec: unknown; x: number[][] }
const fixture = readFixture<{ torch: string; cases: Case[] }>('optim', 'torch_sgd.json');

test('fixture file holds every case the optimizer contract names', () => {
  const names = fixture.cases.map((c) => c.name).join(' | ');
  for (const must of ['dampening', 'nesterov + coupled weight decay', 'maximize', 'step decay', 'SVAG l=4', 'normalised schedule']) {
    assert.ok(names.includes(must), `missing fixture case "${must}"`);
  }
});

for (const c of fixture.cases) {
  test(`matches torch ${fixture.torch}: ${c.name}`, () => {
    const x = runTrace(parseTraceSpec(c.spec));
    const err = maxAbsDiff(x, c.x);
    assert.ok(err <= 1e-12, `max |x − x_torch| = ${err}`);
  });
}
