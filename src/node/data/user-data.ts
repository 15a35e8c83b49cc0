/**
 * Users' data files (`--data FILE`): finds the format from the path and reads it into a validated Dataset.
 *   FILE.npz                 Keras's mnist.npz names: x_train, y_train, x_test, y_test, optionally x_val, y_val
 *   FILE.csv                 one table with a `split` column (train/test/val)
 *   DIR with x_train.npy …   .npy pairs under the same names
 *   DIR with train.csv …     train.csv, test.csv, optionally val.csv
 *   DIR with IDX files       train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-… (raw or .gz), pixels /255
 *   DIR with train/, test/   image class folders (image-folder.ts)
 * Every problem is a one-line UserError that starts with the file it is about.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import type { Dataset } from '../../core/data/dataset.js';
import { toSplit } from '../../core/data/dataset.js';
import { idxImagesLabels } from '../../core/data/idx.js';
import type { DataFileSpec } from '../../core/data/data-file.js';
import { datasetFromArrays, MAX_CLASSES, type ArraySplits } from './arrays.js';
import { csvSplits, parseCsvText } from './csv.js';
import { readIdxFile } from './files.js';
import { imageFolderSplits } from './image-folder.js';
import { parseNpy, type NpyArray } from './npy.js';
import { parseNpz } from './npz.js';
import { IDX_FILES } from '../../core/data/sources.js';

const FORMATS = 'an .npz, a .csv with a split column, or a folder of x_train.npy/y_train.npy/x_test.npy/y_test.npy, train.csv/test.csv, MNIST-style IDX files, or train/ and test/ image class folders';

function readBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read (${code === 'EACCES' ? 'permission denied' : code ?? String(e)})`);
  }
}

/** x_/y_ pairs for train, test and (when both are there) val, from named arrays; a missing one names what is there. */
function pairs(arrays: Map<string, NpyArray> | ((key: string) => NpyArray | null), file: string): ArraySplits {
  const get = typeof arrays === 'function' ? arrays : (k: string) => arrays.get(k) ?? null;
  const have = typeof arrays === 'function' ? null : [...arrays.keys()];
  const need = (k: string): NpyArray => {
    const a = get(k);
    if (a === null) throw new UserError(`${file}: no ${k}${have === null ? '.npy' : ''} (${have === null ? '' : `has ${have.join(', ') || 'no arrays'}; `}needs x_train, y_train, x_test, y_test as in Keras's mnist.npz)`);
    return a;
  };
  const out: ArraySplits = { train: { x: need('x_train'), y: need('y_train') }, test: { x: need('x_test'), y: need('y_test') } };
  const xv = get('x_val'), yv = get('y_val');
  if ((xv === null) !== (yv === null)) throw new UserError(`${file}: ${xv === null ? 'y_val without x_val' : 'x_val without y_val'}; give both or neither`);
  if (xv !== null && yv !== null) out.val = { x: xv, y: yv };
  return out;
}

function idxSplits(dir: string): ArraySplits | null {
  const find = (base: string): string | undefined => [join(dir, base), join(dir, `${base}.gz`)].find((p) => existsSync(p));
  const files = [IDX_FILES.trainImages, IDX_FILES.trainLabels, IDX_FILES.testImages, IDX_FILES.testLabels].map(find);
  if (files.every((f) => f === undefined)) return null;
  const missing = files.findIndex((f) => f === undefined);
  if (missing >= 0) throw new UserError(`${dir}: IDX data needs ${Object.values(IDX_FILES).join(', ')} (raw or .gz); ${Object.values(IDX_FILES)[missing]} is missing`);
  const split = (images: string, labels: string, which: string): ArraySplits['train'] => {
    const s = idxImagesLabels(readIdxFile(images), () => readIdxFile(labels), MAX_CLASSES);
    // Bytes become pixel/255 exactly as the built-in MNIST and Fashion-MNIST do, so the same files train the same.
    const f = toSplit({ images: s.images, labels: s.labels, n: s.n });
    return {
      x: { name: `${images} (${which})`, dtype: 'float32', shape: [s.n, s.h, s.w], data: f.images },
      y: { name: labels, dtype: 'int32', shape: [s.n], data: f.labels },
    };
  };
  const [a, b, c, d] = files as [string, string, string, string];
  return { train: split(a, b, 'train'), test: split(c, d, 'test') };
}

/** The format of `path` and its splits. */
function readSplits(path: string, spec: DataFileSpec): { format: string; splits: ArraySplits } {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: no such file or folder (--data takes ${FORMATS})`);
  }
  if (st.isFile()) {
    const bytes = readBytes(path);
    if (/\.npz$/i.test(path) || (bytes[0] === 0x50 && bytes[1] === 0x4b)) return { format: 'npz', splits: pairs(parseNpz(bytes, path), path) };
    if (/\.csv$/i.test(path)) return { format: 'csv', splits: csvSplits(parseCsvText(new TextDecoder().decode(bytes), path), spec.labelColumn) as ArraySplits };
    if (/\.npy$/i.test(path)) throw new UserError(`${path}: one .npy holds one array; give the folder holding x_train.npy, y_train.npy, x_test.npy and y_test.npy`);
    throw new UserError(`${path}: not a data file momentum-lab reads (--data takes ${FORMATS})`);
  }
  const has = (f: string): boolean => existsSync(join(path, f));
  if (has('x_train.npy') || has('y_train.npy')) {
    const read = (k: string): NpyArray | null => (has(`${k}.npy`) ? parseNpy(readBytes(join(path, `${k}.npy`)), join(path, `${k}.npy`)) : null);
    return { format: 'npy', splits: pairs(read, path) };
  }
  if (has('train.csv') || has('test.csv')) {
    for (const f of ['train.csv', 'test.csv']) if (!has(f)) throw new UserError(`${path}: CSV data needs train.csv and test.csv; ${f} is missing`);
    const table = (f: string) => parseCsvText(new TextDecoder().decode(readBytes(join(path, f))), join(path, f));
    const splits = {
      ...csvSplits(table('train.csv'), spec.labelColumn, 'train'),
      ...csvSplits(table('test.csv'), spec.labelColumn, 'test'),
      ...(has('val.csv') ? csvSplits(table('val.csv'), spec.labelColumn, 'val') : {}),
    } as ArraySplits;
    return { format: 'csv', splits };
  }
  const idx = idxSplits(path);
  if (idx !== null) return { format: 'idx', splits: idx };
  if (has('train') || has('test')) return { format: 'images', splits: imageFolderSplits(path, spec.imageSize, spec.channels).splits };
  throw new UserError(`${path}: no data found in this folder (--data takes ${FORMATS})`);
}

/** Reads and validates a user's data file; the Dataset's name is the file's base name. */
export function loadUserData(spec: DataFileSpec): Dataset {
  const path = resolve(spec.file);
  const { format, splits } = readSplits(spec.file, spec);
  const x = splits.train.x.shape;
  if (spec.layout === 'nchw' && x.length === 4 && [1, 3, 4].includes(x[3]!) && x[3]! < Math.min(x[1]!, x[2]!)) {
    // Keras and TensorFlow store (n, h, w, c); read as (n, c, h, w) the run would train on scrambled images.
    process.stderr.write(`momentum-lab: warning: ${splits.train.x.name} has shape (${x.join(', ')}), which looks like (n, h, w, c); add --layout nhwc ("layout": "nhwc") if it is\n`);
  }
  return datasetFromArrays(splits, spec.layout, basename(path), `${path} (${format})`);
}
