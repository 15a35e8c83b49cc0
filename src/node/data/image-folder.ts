/**
 * Image folders, torchvision's ImageFolder layout per split: `DIR/train/<class>/*.png|jpg`, `DIR/test/<class>/…`
 * and optionally `DIR/val/<class>/…`. Classes are the train subfolders in sorted order (class k = the k-th name),
 * samples are taken class by class in sorted file order. PNG is decoded with pngjs, JPEG with jpeg-js; every image
 * is resized to the declared [h, w] by bilinear interpolation (pixel centres at +½, edges clamped) and scaled to
 * [0, 1] like torchvision's ToTensor; grey is ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), as PIL's "L" mode.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../../core/util/errors.js';
import type { ArraySplits, SplitName } from './arrays.js';

interface Rgba { width: number; height: number; data: Uint8Array }

const IMAGE = /\.(png|jpe?g)$/i;

function decodeImage(file: string): Rgba {
  const bytes = readFileSync(file);
  try {
    if (/\.png$/i.test(file)) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, data: png.data };
    }
    return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 100 });
  } catch (e) {
    throw new UserError(`${file}: cannot decode the image (${String((e as Error).message ?? e).split('\n')[0]})`);
  }
}

/** One image as c×h×w floats in [0, 1], resized to [H, W] (bilinear). */
export function imageToPlanes(img: Rgba, H: number, W: number, channels: 1 | 3, out: Float32Array, at: number): void {
  const { width: w, height: h, data } = img;
  const value = (x: number, y: number, c: number): number => {
    const p = 4 * (y * w + x);
    return channels === 3 ? data[p + c]! : 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
  };
  const sy = h / H, sx = w / W;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < H; y++) {
      const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
      const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), ty = fy - y0;
      for (let x = 0; x < W; x++) {
        const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
        const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), tx = fx - x0;
        const top = value(x0, y0, c) * (1 - tx) + value(x1, y0, c) * tx;
        const bottom = value(x0, y1, c) * (1 - tx) + value(x1, y1, c) * tx;
        out[at + (c * H + y) * W + x] = (top * (1 - ty) + bottom * ty) / 255;
      }
    }
  }
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
}

/** One split folder read into arrays; `classes` are the train split's class names. */
function readSplit(dir: string, which: SplitName, classes: readonly string[], size: readonly [number, number], channels: 1 | 3): { x: ArraySplits['train']['x']; y: ArraySplits['train']['y'] } {
  const files: { file: string; label: number }[] = [];
  for (const name of subfolders(dir)) {
    const label = classes.indexOf(name);
    if (label < 0) throw new UserError(`${join(dir, name)}: class '${name}' is not a class of the train split (${classes.join(', ')})`);
    for (const f of readdirSync(join(dir, name)).sort()) {
      if (f.startsWith('.')) continue;
      const file = join(dir, name, f);
      if (!IMAGE.test(f)) throw new UserError(`${file}: not a .png, .jpg or .jpeg file; image class folders hold only images`);
      files.push({ file, label });
    }
  }
  const [H, W] = size;
  const per = channels * H * W;
  const x = new Float32Array(files.length * per);
  const y = new Int32Array(files.length);
  files.forEach(({ file, label }, i) => {
    imageToPlanes(decodeImage(file), H, W, channels, x, i * per);
    y[i] = label;
  });
  return {
    x: { name: `${dir} (${which} images)`, dtype: 'float32', shape: [files.length, channels, H, W], data: x },
    y: { name: `${dir} (${which} labels)`, dtype: 'int32', shape: [files.length], data: y },
  };
}

/** The splits of an image-folder dataset rooted at `root`, with its class names. */
export function imageFolderSplits(root: string, size: readonly [number, number] | null, channels: 1 | 3): { splits: ArraySplits; classNames: string[] } {
  const isDir = (p: string): boolean => { try { return statSync(p).isDirectory(); } catch { return false; } };
  for (const s of ['train', 'test']) {
    if (!isDir(join(root, s))) throw new UserError(`${root}: an image folder needs ${s}/ with one subfolder per class (${root}/${s}/<class>/*.png)`);
  }
  if (size === null) throw new UserError(`${root}: image folders are resized to one declared size; give --image-size HxW (e.g. 32x32)`);
  const classNames = subfolders(join(root, 'train'));
  if (classNames.length < 2) throw new UserError(`${join(root, 'train')}: ${classNames.length} class subfolder${classNames.length === 1 ? '' : 's'}; a classifier needs at least two`);
  const splits: ArraySplits = {
    train: readSplit(join(root, 'train'), 'train', classNames, size, channels),
    test: readSplit(join(root, 'test'), 'test', classNames, size, channels),
    ...(isDir(join(root, 'val')) ? { val: readSplit(join(root, 'val'), 'val', classNames, size, channels) } : {}),
  };
  return { splits, classNames };
}
