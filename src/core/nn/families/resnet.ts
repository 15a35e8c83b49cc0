/** CIFAR ResNets (He et al. 2016 §4.2), named by depth in configs: 'resnet20', 'resnet32', … */
import { BatchNorm, Conv2d, GlobalAvgPool, Linear, ReLU, Residual, Sequential } from '../../engine/layers/index.js';
import { check } from '../../util/errors.js';
import { LayerChain, positiveInt, registerModelFamily, type ModelSpecBase } from '../registry.js';

/** CIFAR ResNet (He et al. 2016 §4.2): depth 6n+2, stage widths w, 2w, 4w; 1×1-conv+BN projection shortcuts. */
export interface ResNetSpec extends ModelSpecBase {
  kind: 'resnet';
  depth: number;
  width: number;
}

export const resnetFamily = registerModelFamily<ResNetSpec>({
  kind: 'resnet',
  names: ['resnet20', 'resnet32'],
  fromName(name) {
    const m = /^resnet(\d+)$/.exec(name);
    return m === null ? null : { kind: 'resnet', depth: Number(m[1]) };
  },
  parse(o, field) {
    const depth = positiveInt(o, 'depth', 20, field);
    check((depth - 2) % 6 === 0 && depth >= 8, `${field}.depth`, `CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56), got ${depth}`);
    return { kind: 'resnet', depth, width: positiveInt(o, 'width', 16, field) };
  },
  build(spec, inShape, K, ctx) {
    check(inShape.length === 3, 'model', `resnet needs image input [C, H, W], got [${inShape.join(', ')}]`);
    const net = new LayerChain(inShape);
    const blocks = (spec.depth - 2) / 6, w = spec.width;
    net.add(new Conv2d(ctx, 'conv1', net.shape, w, 3, 1, 1, false));
    net.add(new BatchNorm(ctx, 'bn1', net.shape));
    net.add(new ReLU(ctx, net.shape));
    [w, 2 * w, 4 * w].forEach((width, s) => {
      for (let b = 0; b < blocks; b++) {
        const stride = s > 0 && b === 0 ? 2 : 1;
        const name = `layer${s + 1}.${b}`;
        const inS = net.shape;
        const main = new LayerChain(inS);
        main.add(new Conv2d(ctx, `${name}.conv1`, main.shape, width, 3, stride, 1, false));
        main.add(new BatchNorm(ctx, `${name}.bn1`, main.shape));
        main.add(new ReLU(ctx, main.shape));
        main.add(new Conv2d(ctx, `${name}.conv2`, main.shape, width, 3, 1, 1, false));
        main.add(new BatchNorm(ctx, `${name}.bn2`, main.shape));
        let shortcut: Sequential | null = null;
        if (stride !== 1 || inS[0] !== width) {
          const conv = new Conv2d(ctx, `${name}.shortcut.conv`, inS, width, 1, stride, 0, false);
          shortcut = new Sequential([conv, new BatchNorm(ctx, `${name}.shortcut.bn`, conv.outShape)]);
        }
        net.add(new Residual(ctx, new Sequential(main.layers), shortcut, true)); // relu(main + shortcut), fused
      }
    });
    net.add(new GlobalAvgPool(ctx, net.shape));
    net.add(new Linear(ctx, 'fc', net.shape, K));
    return net.layers;
  },
  probeNote: 'BatchNorm in train mode: batch statistics of the measurement batch',
});
