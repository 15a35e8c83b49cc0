/**
 * The charts of the paper's claims, built from claims.json alone (each claim's measurement rows), so the HTML
 * report and the browser lab (lab/results.ts) draw a claims.json with the same Vega-Lite specs. No Node import:
 * the lab bundles this file.
 */
import type { Chart } from './charts.js';

/** The claims.json fields these charts read. */
export interface ClaimRows {
  id: string;
  measurements: Record<string, unknown>[];
}

/** The pair chart of each claim that has one: batch-size, svag, fine-tuning and fine-tuning-text per task (in that order, where present). */
export function claimCharts(claims: readonly ClaimRows[]): Chart[] {
  const find = (id: string): ClaimRows | undefined => claims.find((c) => c.id === id && c.measurements.length > 0);
  const out: Chart[] = [];
  const bs = find('batch-size'), sv = find('svag'), ft = find('fine-tuning');
  if (bs !== undefined) out.push(pairChart('batch-size-best', 'Best test accuracy vs batch size', 'SGD and SGDM at their own best effective lr per batch size, mean ± std over seeds (a diverged seed counts as chance). The paper: equal at small and medium batch, SGDM ahead only at large batch.', bs.measurements, 'batch', 'batch size B'));
  if (sv !== undefined) out.push(pairChart('svag-vs-l', 'Test accuracy vs SVAG level ℓ', 'Same effective lr for both (SGDM\'s best at this batch size), mean ± std over seeds; a diverged seed counts as chance. The paper: SGDM ahead at ℓ = 1, the gap closes as ℓ grows.', sv.measurements, 'l', 'SVAG level ℓ'));
  if (ft !== undefined) out.push(pairChart('fine-tuning-vs-k', 'Fine-tuning: test accuracy vs K', 'Mean ± std over the data seeds; the claim is that the two agree within that std at every K.', ft.measurements, 'k', 'K (examples per class)'));
  const tx = find('fine-tuning-text');
  for (const task of new Set((tx?.measurements ?? []).map((m) => String(m.task)))) {
    out.push(pairChart(`text-${task}-vs-k`, `Prompt fine-tuning of the masked LM (${task}): test accuracy vs K`, 'Mean ± std over the data seeds; the claim is that the two are equivalent at every K.', tx!.measurements.filter((m) => m.task === task), 'k', 'K (examples per class)'));
  }
  return out;
}

/** SGD vs SGDM accuracy (mean ± std over seeds) along one axis of a claim's measurement rows. */
export function pairChart(name: string, title: string, caption: string, rows: Record<string, unknown>[], xField: string, xTitle: string): Chart {
  const values = rows.flatMap((m) => [
    { x: m[xField], optimizer: 'SGD', mean: m.sgdMean, lo: (m.sgdMean as number) - (m.sgdStd as number), hi: (m.sgdMean as number) + (m.sgdStd as number) },
    { x: m[xField], optimizer: 'SGDM β=0.9', mean: m.sgdmMean, lo: (m.sgdmMean as number) - (m.sgdmStd as number), hi: (m.sgdmMean as number) + (m.sgdmStd as number) },
  ]);
  const x = { field: 'x', type: 'quantitative', scale: { type: 'log', base: 2 }, title: xTitle, axis: { values: rows.map((m) => m[xField]) } };
  const color = { field: 'optimizer', type: 'nominal', title: null };
  return {
    name, title, caption,
    spec: {
      title, width: 480, height: 280, background: 'white', data: { values },
      layer: [
        { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'test accuracy', scale: { zero: false } }, y2: { field: 'hi' }, color } },
        { mark: { type: 'line', point: { filled: true, size: 60 } }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
      ],
    },
  };
}
