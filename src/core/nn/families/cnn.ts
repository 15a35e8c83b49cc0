/** The two-convolution network family: 'cnn' in configs. */
import { Conv2d, Flatten, Linear, MaxPool2d } from '../../engine/layers/index.js';
import { check } from '../../util/errors.js';
import { LayerChain, positiveInt, registerModelFamily, type ModelSpecBase } from '../registry.js';

/** conv(c1,3×3)-relu-maxpool2-conv(c2,3×3)-relu-maxpool2-dense(d)-relu-dense(classes), valid padding. */
export interface CnnSpec extends ModelSpecBase {
  kind: 'cnn';
  channels: [number, number];
  dense: number;
}

const DENSE = 128;

export const cnnFamily = registerModelFamily<CnnSpec>({
  kind: 'cnn',
  parse(o, field) {
    const ch = o.channels ?? [32, 64];
    check(Array.isArray(ch) && ch.length === 2 && ch.every((c) => typeof c === 'number' && Number.isInteger(c) && c > 0), `${field}.channels`, 'must be two positive integers');
    return { kind: 'cnn', channels: [ch[0] as number, ch[1] as number], dense: positiveInt(o, 'dense', DENSE, field) };
  },
  build(spec, inShape, K, ctx) {
    check(inShape.length === 3, 'model', `cnn needs image input [C, H, W], got [${inShape.join(', ')}]`);
    // Two valid 3×3 convolutions, each followed by a 2×2 pool, must leave at least one pixel: H, W ≥ 10.
    const side = (n: number): number => Math.floor((Math.floor((n - 2) / 2) - 2) / 2);
    check(side(inShape[1]!) >= 1 && side(inShape[2]!) >= 1, 'model', `cnn needs images of at least 10×10 (two 3×3 convolutions, each pooled 2×2), got ${inShape[1]}×${inShape[2]}; use mlp or a smaller ONNX model for smaller images`);
    const net = new LayerChain(inShape);
    // conv→ReLU and dense→ReLU are fused layers (relu = true): the same function with one memory pass fewer.
    net.add(new Conv2d(ctx, 'conv1', net.shape, spec.channels[0], 3, 1, 0, true, true));
    net.add(new MaxPool2d(ctx, net.shape, 2));
    net.add(new Conv2d(ctx, 'conv2', net.shape, spec.channels[1], 3, 1, 0, true, true));
    net.add(new MaxPool2d(ctx, net.shape, 2));
    net.add(new Flatten(ctx, net.shape));
    net.add(new Linear(ctx, 'fc1', net.shape, spec.dense, true, true));
    net.add(new Linear(ctx, 'fc2', net.shape, K));
    return net.layers;
  },
  // 'cnn 16-32-128': channels and dense width, the knobs the paper plans vary.
  label: (raw) => (Array.isArray(raw.channels) ? `cnn ${(raw.channels as number[]).join('-')}-${String(raw.dense ?? DENSE)}` : null),
  measurePeakRss: true,
});
