/** The multilayer perceptron family: 'mlp' in configs. */
import { Dropout, Flatten, GELU, Linear, Tanh } from '../../engine/layers/index.js';
import { check } from '../../util/errors.js';
import { LayerChain, registerModelFamily, type ModelSpecBase } from '../registry.js';

/** Linear layers of the given hidden widths with an activation after each (784-256-256-10 by default). */
export interface MlpSpec extends ModelSpecBase {
  kind: 'mlp';
  hidden: number[];
  activation: 'relu' | 'tanh' | 'gelu';
  dropout: number;
}

export const mlpFamily = registerModelFamily<MlpSpec>({
  kind: 'mlp',
  parse(o, field) {
    const hidden = o.hidden ?? [256, 256];
    check(Array.isArray(hidden) && hidden.every((h) => typeof h === 'number' && Number.isInteger(h) && h > 0), `${field}.hidden`, 'must be an array of positive integers');
    const activation = o.activation ?? 'relu';
    check(activation === 'relu' || activation === 'tanh' || activation === 'gelu', `${field}.activation`, `must be relu, tanh or gelu, got ${JSON.stringify(activation)}`);
    const dropout = o.dropout ?? 0;
    check(typeof dropout === 'number' && dropout >= 0 && dropout < 1, `${field}.dropout`, 'must be in [0, 1)');
    return { kind: 'mlp', hidden: [...(hidden as number[])], activation, dropout };
  },
  build(spec, inShape, K, ctx) {
    const net = new LayerChain(inShape);
    if (net.shape.length > 1) net.add(new Flatten(ctx, net.shape));
    spec.hidden.forEach((h, i) => {
      // ReLU is fused into the Linear layer (same math, one pass fewer); tanh and GELU are layers of their own.
      net.add(new Linear(ctx, `fc${i + 1}`, net.shape, h, true, spec.activation === 'relu'));
      if (spec.activation !== 'relu') net.add(spec.activation === 'tanh' ? new Tanh(ctx, net.shape) : new GELU(ctx, net.shape));
      if (spec.dropout > 0) net.add(new Dropout(ctx, net.shape, spec.dropout));
    });
    net.add(new Linear(ctx, `fc${spec.hidden.length + 1}`, net.shape, K));
    return net.layers;
  },
  // Dropout off: a Hessian-vector product needs the same function at every call.
  hvpTwin: (spec) => ({ ...spec, dropout: 0 }),
  // float64 dense layers are ~10× cheaper per sample than the convolution and attention kernels.
  measureSamples: 256,
  measurePeakRss: true,
});
