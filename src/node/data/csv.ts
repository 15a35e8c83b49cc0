/**
 * CSV data: one sample per row, numeric feature columns and one integer label column. Either a folder holding
 * train.csv and test.csv (and optionally val.csv), or one file with a `split` column whose values are train, test
 * or val. A first row with any non-numeric cell is the header; the label column is `labelColumn` (a header name or
 * a 0-based index), by default the column headed `label`. Cells are plain numbers (`nan` and `inf` are read as such,
 * so the common checks can name them); quoting is allowed around header names.
 */
import { UserError } from '../../core/util/errors.js';
import type { NpyArray } from './npy.js';
import type { ArraySplits, SplitName } from './arrays.js';

function cells(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

function number(cell: string): number {
  const c = cell.toLowerCase();
  if (c === 'nan') return NaN;
  if (c === 'inf' || c === '+inf' || c === 'infinity') return Infinity;
  if (c === '-inf' || c === '-infinity') return -Infinity;
  return cell === '' ? NaN : Number(cell);
}

const isNumber = (cell: string): boolean => cell !== '' && !Number.isNaN(number(cell)) || /^[+-]?(nan|inf(inity)?)$/i.test(cell);

interface Table { file: string; header: string[] | null; rows: string[][]; firstRow: number }

export function parseCsvText(text: string, file: string): Table {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new UserError(`${file}: empty CSV file`);
  const first = cells(lines[0]!);
  const header = first.some((c) => !isNumber(c)) ? first : null;
  const start = header === null ? 0 : 1;
  const rows = lines.slice(start).map(cells);
  const width = first.length;
  rows.forEach((r, i) => {
    if (r.length !== width) throw new UserError(`${file}: row ${i + start + 1} has ${r.length} columns, the first row has ${width}`);
  });
  return { file, header, rows, firstRow: start + 1 };
}

function columnIndex(t: Table, want: string | number | null, what: string, required: boolean): number {
  if (typeof want === 'number') {
    const width = t.header?.length ?? t.rows[0]!.length;
    if (want >= width) throw new UserError(`${t.file}: ${what} column ${want} does not exist (columns 0..${width - 1})`);
    return want;
  }
  const name = want ?? (what === 'label' ? 'label' : what);
  const i = t.header === null ? -1 : t.header.indexOf(name);
  if (i < 0 && required) {
    throw new UserError(t.header === null
      ? `${t.file}: no header row, so no '${name}' column; add a header or give the ${what} column's 0-based index (--label-column N)`
      : `${t.file}: no '${name}' column (columns: ${t.header.join(', ')}); give the ${what} column with --label-column`);
  }
  return i;
}

/** x (n, d) float64 and y (n) float64 arrays from the rows of a table, skipping the label (and split) column. */
function arrays(t: Table, rows: { r: string[]; line: number }[], label: number, skip: number, which: SplitName): { x: NpyArray; y: NpyArray } {
  const width = t.rows[0]?.length ?? t.header!.length;
  const features = width - 1 - (skip >= 0 ? 1 : 0);
  if (features < 1) throw new UserError(`${t.file}: no feature columns besides the label`);
  const x = new Float64Array(rows.length * features);
  const y = new Float64Array(rows.length);
  rows.forEach(({ r, line }, i) => {
    let k = 0;
    r.forEach((cell, j) => {
      if (j === skip) return;
      if (cell === '') throw new UserError(`${t.file}: empty cell (a missing value) at line ${line}, column ${j + 1}; fill or drop it`);
      const v = number(cell);
      if (Number.isNaN(v) && !/^[+-]?nan$/i.test(cell)) throw new UserError(`${t.file}: '${cell}' at line ${line}, column ${j + 1} is not a number`);
      if (j === label) y[i] = v;
      else x[i * features + k++] = v;
    });
  });
  const tag = rows.length === t.rows.length ? '' : ` (${which} rows)`;
  return {
    x: { name: `${t.file}${tag}`, dtype: 'float64', shape: [rows.length, features], data: x },
    y: { name: `${t.file}: label column${tag}`, dtype: 'float64', shape: [rows.length], data: y },
  };
}

/** The splits of one table: all rows (`which` given), or by its `split` column. */
export function csvSplits(t: Table, labelColumn: string | number | null, which?: SplitName): Partial<ArraySplits> {
  const label = columnIndex(t, labelColumn, 'label', true);
  const all = t.rows.map((r, i) => ({ r, line: i + t.firstRow }));
  if (which !== undefined) return { [which]: arrays(t, all, label, -1, which) };
  const split = columnIndex(t, 'split', 'split', false);
  if (split < 0) throw new UserError(`${t.file}: no 'split' column (train/test/val per row); add one, or give a folder holding train.csv and test.csv`);
  const out: Partial<ArraySplits> = {};
  for (const name of ['train', 'test', 'val'] as const) {
    const rows = all.filter(({ r }) => r[split] === name);
    if (rows.length > 0 || name !== 'val') out[name] = arrays(t, rows, label, split, name);
  }
  const other = all.find(({ r }) => !['train', 'test', 'val'].includes(r[split]!));
  if (other !== undefined) throw new UserError(`${t.file}: split '${other.r[split]}' at line ${other.line} is not train, test or val`);
  return out;
}
