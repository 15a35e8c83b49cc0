/**
 * Input transforms: per-channel standardisation (the training split's mean and standard deviation, as torchvision's
 * Normalize) applied while a batch is gathered (`gatherBatch` in splits.ts), and random crop + flip augmentation.
 */
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Split } from './dataset.js';

export interface ChannelStats { mean: number[]; std: number[] }

/** Per-channel mean and (population) standard deviation over a split, accumulated in float64. */
export function channelStats(split: Split, channels: number): ChannelStats {
  const per = split.images.length / Math.max(split.n, 1);
  const hw = per / channels;
  if (!Number.isInteger(hw)) throw new Error(`channelStats: ${per} values per image is not divisible by ${channels} channels`);
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  const x = split.images;
  for (let i = 0; i < split.n; i++) {
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let s2 = 0;
      const off = i * per + c * hw;
      for (let p = 0; p < hw; p++) {
        const v = x[off + p]!;
        s += v;
        s2 += v * v;
      }
      sum[c]! += s;
      sq[c]! += s2;
    }
  }
  const count = split.n * hw;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s2, c) => Math.sqrt(Math.max(s2 / count - mean[c]! * mean[c]!, 0)));
  return { mean, std };
}

/** The identity's statistics (mean 0, std 1 per channel): what 'raw' inputs record. */
export function identityStats(channels: number): ChannelStats {
  return { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) };
}

/** Per-channel affine input transform x·scale_c + shift_c over planes of `planeSize` values (float64 arithmetic). */
export interface InputTransform { scale: Float64Array; shift: Float64Array; planeSize: number }

/**
 * x ↦ (x − mean_c)/std_c as x·(1/std_c) + shift_c (a channel with std 0 is only shifted). The shift is −mean/std
 * ('divide', the training loop) or −mean·(1/std) ('reciprocal', the advisor's probe): the two can differ in the
 * last bit, and each path's recorded results depend on its own.
 */
export function standardization(stats: ChannelStats, planeSize: number, shift: 'divide' | 'reciprocal' = 'divide'): InputTransform {
  const scale = Float64Array.from(stats.std, (s) => (s > 0 ? 1 / s : 1));
  return {
    scale,
    shift: Float64Array.from(stats.mean, (m, c) => (shift === 'reciprocal' ? -m * scale[c]! : stats.std[c]! > 0 ? -m / stats.std[c]! : -m)),
    planeSize,
  };
}

/**
 * In place: x ← x·(1/std_c) − mean_c/std_c per channel (channels = mean.length), like torchvision's Normalize.
 * Returns the same split. Use the train split's `channelStats` for both train and test.
 */
export function normalize(split: Split, mean: readonly number[], std: readonly number[]): Split {
  const channels = mean.length;
  if (std.length !== channels) throw new UserError(`normalize: ${mean.length} means but ${std.length} standard deviations`, 'normalize');
  for (const s of std) if (!(s > 0)) throw new UserError(`normalize: standard deviation must be > 0, got ${s}`, 'normalize');
  const per = split.images.length / Math.max(split.n, 1);
  const hw = per / channels;
  if (!Number.isInteger(hw)) throw new UserError(`normalize: ${per} values per image do not split into ${channels} channels`, 'normalize');
  const t = standardization({ mean: [...mean], std: [...std] }, hw);
  applyTransform(split.images, 0, split.images, 0, split.images.length, t);
  return split;
}

/** dst[d0 …] = t(src[s0 … s0+len)) for whole images (len a multiple of t.planeSize, channels cycling). */
export function applyTransform(src: Float32Array, s0: number, dst: Float32Array | Float64Array, d0: number, len: number, t: InputTransform): void {
  const P = t.planeSize, C = t.scale.length;
  for (let o = 0, c = 0; o < len; o += P, c = (c + 1) % C) {
    const a = t.scale[c]!, b = t.shift[c]!;
    for (let j = 0; j < P; j++) dst[d0 + o + j] = src[s0 + o + j]! * a + b;
  }
}
export interface CropFlipOptions {
  /** Zero-padding on each side before a random h×w crop (torchvision `RandomCrop(h, padding=pad)`); 0 = no crop. */
  pad: number;
  /** Mirror left–right with probability ½ (`RandomHorizontalFlip`). */
  flip: boolean;
  /** Value of padded pixels: 0 for [0,1] pixels; −mean/std after `normalize`. Default 0. */
  fill?: number;
}

/**
 * Random-crop + horizontal-flip augmentation of a batch, in place, seeded (its Rng state is part of a checkpoint).
 * Per image: offsets dy, dx uniform in 0..2·pad, then out(y, x) = in(y+dy−pad, x'+dx−pad) with x' = w−1−x when
 * flipped, `fill` outside the image. One scratch image is allocated at construction, nothing per call.
 */
export class CropFlipAugmenter {
  private readonly rng: Rng;
  private readonly scratch: Float32Array;
  constructor(
    readonly shape: readonly [number, number, number],
    readonly opts: CropFlipOptions,
    seed: number,
  ) {
    if (!Number.isInteger(opts.pad) || opts.pad < 0) throw new UserError(`must be an integer ≥ 0, got ${opts.pad}`, 'augment.pad');
    this.rng = new Rng(seed);
    this.scratch = new Float32Array(shape[0] * shape[1] * shape[2]);
  }

  apply(images: Float32Array | Float64Array, count: number): void {
    const [C, H, W] = this.shape;
    const P = this.opts.pad;
    const fill = this.opts.fill ?? 0;
    const per = C * H * W;
    const tmp = this.scratch;
    for (let b = 0; b < count; b++) {
      const dy = P > 0 ? this.rng.int(2 * P + 1) - P : 0;
      const dx = P > 0 ? this.rng.int(2 * P + 1) - P : 0;
      const flip = this.opts.flip && this.rng.uniform() < 0.5;
      if (dy === 0 && dx === 0 && !flip) continue;
      const off = b * per;
      for (let i = 0; i < per; i++) tmp[i] = images[off + i]!;
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          const sy = y + dy;
          const row = off + (c * H + y) * W;
          if (sy < 0 || sy >= H) {
            for (let x = 0; x < W; x++) images[row + x] = fill;
            continue;
          }
          const srow = (c * H + sy) * W;
          for (let x = 0; x < W; x++) {
            const sx = (flip ? W - 1 - x : x) + dx;
            images[row + x] = sx < 0 || sx >= W ? fill : tmp[srow + sx]!;
          }
        }
      }
    }
  }

  getState(): number[] {
    return this.rng.getState();
  }

  setState(s: readonly number[]): void {
    this.rng.setState(s);
  }
}
