/**
 * A user's data file as a run names it: `--data FILE` on the command line, `"data": FILE` (or an object with the
 * options below) in advise and sweep configs. Reading the file is the host's job (src/node/data/user-data.ts); this
 * is the validated description, so configs can be checked before anything is read.
 */
import { UserError } from '../util/errors.js';

export interface DataFileSpec {
  /** An .npz, a folder of .npy pairs, CSV files, IDX files or image class folders. */
  file: string;
  /** Order of 4-D arrays in .npz/.npy: (n, c, h, w), PyTorch's, or (n, h, w, c), Keras's. */
  layout: 'nchw' | 'nhwc';
  /** CSV: the label column's header name or 0-based index (default: the column headed `label`). */
  labelColumn: string | number | null;
  /** Image folders: every image is resized (bilinear) to [h, w]; required for them. */
  imageSize: readonly [number, number] | null;
  /** Image folders: 1 (grey) or 3 (RGB) channels. */
  channels: 1 | 3;
}

const KEYS = ['file', 'layout', 'labelColumn', 'imageSize', 'channels'];

/** `HxW` (e.g. `32x32`) as [h, w]; `field` names the flag or key in the error. */
export function parseImageSize(raw: string, field: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(raw.trim());
  const hw = m === null ? [] : [Number(m[1]), Number(m[2])];
  if (hw.length !== 2 || !hw.every((v) => v >= 1 && v <= 4096)) throw new UserError(`${field}: must look like 32x32 (height x width, each 1..4096), got '${raw}'`, field);
  return hw as [number, number];
}

/**
 * A data spec from a config value (a path, or `{"file", "layout", "labelColumn", "imageSize", "channels"}`) or from
 * CLI flags; every problem is a one-line UserError naming `field`.
 */
export function parseDataSpec(raw: unknown, field = 'data'): DataFileSpec {
  const o: Record<string, unknown> = typeof raw === 'string' ? { file: raw } : (raw as Record<string, unknown>);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new UserError(`${field}: must be a file path or an object like {"file": "data.npz", "layout": "nhwc"}, got ${JSON.stringify(raw)}`, field);
  }
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw new UserError(`${field}.${k}: unknown key (allowed: ${KEYS.join(', ')})`, field);
  if (typeof o.file !== 'string' || o.file.trim() === '') throw new UserError(`${field}${typeof raw === 'string' ? '' : '.file'}: must be a non-empty file path`, field);
  const layout = o.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw new UserError(`${field}.layout: must be "nchw" or "nhwc", got ${JSON.stringify(layout)}`, field);
  const lc = o.labelColumn ?? null;
  if (!(lc === null || (typeof lc === 'string' && lc !== '') || (typeof lc === 'number' && Number.isInteger(lc) && lc >= 0))) {
    throw new UserError(`${field}.labelColumn: must be a column name or a 0-based index, got ${JSON.stringify(lc)}`, field);
  }
  let imageSize: [number, number] | null = null;
  if (o.imageSize !== undefined && o.imageSize !== null) {
    if (typeof o.imageSize !== 'string') throw new UserError(`${field}.imageSize: must be a string like "32x32", got ${JSON.stringify(o.imageSize)}`, field);
    imageSize = parseImageSize(o.imageSize, `${field}.imageSize`);
  }
  const channels = o.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new UserError(`${field}.channels: must be 1 or 3, got ${JSON.stringify(channels)}`, field);
  return { file: o.file, layout, labelColumn: lc, imageSize, channels };
}
