/**
 * A run's outcome as JSON for the queue: a worker returns it as the job's result and the coordinator decodes it into
 * the store. Metric values, steps and epochs travel as the bytes of their typed arrays (base64), so NaN, ±∞ and −0
 * arrive bit for bit, as they would from a local worker thread.
 */
import type { RunOutcome } from '../run.js';

export interface EncodedOutcome {
  hash: string;
  status: RunOutcome['status'];
  divergedAtStep: number | null;
  error: string | null;
  summary: string;
  resumedFromStep: number | null;
  tags: string[];
  tagIndex: string;
  steps: string;
  epochs: string;
  values: string;
}

const bytes = (a: Int32Array | Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function typed<T extends Int32Array | Float64Array>(s: string, make: (b: ArrayBuffer) => T, width: number, what: string): T {
  const b = Buffer.from(s, 'base64');
  if (b.length % width !== 0) throw new Error(`queue result: ${what} is ${b.length} bytes, not a multiple of ${width}`);
  const copy = new ArrayBuffer(b.length);
  new Uint8Array(copy).set(b);
  return make(copy);
}

export function encodeOutcome(o: RunOutcome): EncodedOutcome {
  return {
    hash: o.hash,
    status: o.status,
    divergedAtStep: o.divergedAtStep,
    error: o.error,
    // JSON drops NaN and ±∞ in the summary; the same byte trick keeps them.
    summary: bytes(Float64Array.from(Object.values(o.summary))) + ' ' + JSON.stringify(Object.keys(o.summary)),
    resumedFromStep: o.resumedFromStep,
    tags: o.rows.tags,
    tagIndex: bytes(o.rows.tagIndex),
    steps: bytes(o.rows.steps),
    epochs: bytes(o.rows.epochs),
    values: bytes(o.rows.values),
  };
}

export function decodeOutcome(e: EncodedOutcome): RunOutcome {
  const cut = e.summary.indexOf(' ');
  const keys = JSON.parse(e.summary.slice(cut + 1)) as string[];
  const vals = typed(e.summary.slice(0, cut), (b) => new Float64Array(b), 8, 'summary');
  if (vals.length !== keys.length) throw new Error(`queue result: ${keys.length} summary keys but ${vals.length} values`);
  const rows = {
    tags: e.tags,
    tagIndex: typed(e.tagIndex, (b) => new Int32Array(b), 4, 'tag index'),
    steps: typed(e.steps, (b) => new Float64Array(b), 8, 'steps'),
    epochs: typed(e.epochs, (b) => new Float64Array(b), 8, 'epochs'),
    values: typed(e.values, (b) => new Float64Array(b), 8, 'values'),
  };
  const n = rows.values.length;
  if (rows.tagIndex.length !== n || rows.steps.length !== n || rows.epochs.length !== n) throw new Error('queue result: metric columns of different lengths');
  return {
    hash: e.hash, status: e.status, divergedAtStep: e.divergedAtStep, error: e.error, resumedFromStep: e.resumedFromStep,
    summary: Object.fromEntries(keys.map((k, i) => [k, vals[i]!])), rows,
  };
}
