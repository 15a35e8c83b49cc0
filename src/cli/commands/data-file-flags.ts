/** The flags that name a user's data file (`--data FILE` and its reading options), shared by the commands that train. */
import { parseDataSpec, parseImageSize, type DataFileSpec } from '../../core/data/data-file.js';
import { UserError } from '../../core/util/errors.js';
import type { FlagSpec, FlagValues } from '../args.js';

export const DATA_FILE_FLAGS: Record<string, FlagSpec> = {
  data: { kind: 'string', help: 'your data instead of --dataset: an .npz (x_train, y_train, x_test, y_test[, x_val, y_val]), a .csv with a split column, or a folder of .npy pairs, train.csv/test.csv, IDX files or train/ and test/ image class folders' },
  layout: { kind: 'string', help: '4-D arrays in --data are NCHW (PyTorch) or NHWC (Keras)', choices: ['nchw', 'nhwc'] },
  'label-column': { kind: 'string', help: 'CSV --data: the label column\'s header or 0-based index (default: the column headed label)' },
  'image-size': { kind: 'string', help: 'image-folder --data: resize every image to HxW, e.g. 32x32' },
  channels: { kind: 'int', help: 'image-folder --data: 1 (grey) or 3 (RGB, default)' },
};

/** The data spec of `--data` and its options, or null without `--data` (options without it are errors). */
export function dataFileSpec(flags: FlagValues): DataFileSpec | null {
  if (typeof flags.data !== 'string') {
    const stray = ['layout', 'label-column', 'image-size', 'channels'].find((k) => flags[k] !== undefined);
    if (stray !== undefined) throw new UserError(`--${stray} reads a --data file; give --data FILE too`);
    return null;
  }
  const lc = flags['label-column'] as string | undefined;
  if (flags['image-size'] !== undefined) parseImageSize(flags['image-size'] as string, '--image-size');
  if (flags.channels !== undefined && flags.channels !== 1 && flags.channels !== 3) throw new UserError(`--channels must be 1 or 3, got ${String(flags.channels)}`);
  return parseDataSpec({
    file: flags.data,
    ...(flags.layout !== undefined ? { layout: flags.layout } : {}),
    ...(lc !== undefined ? { labelColumn: /^\d+$/.test(lc) ? Number(lc) : lc } : {}),
    ...(flags['image-size'] !== undefined ? { imageSize: flags['image-size'] } : {}),
    ...(flags.channels !== undefined ? { channels: flags.channels } : {}),
  }, '--data');
}
