// A model family in one file: one hidden layer of `width` ReLU units between the flattened input and the logits.
//   npx momentum-lab train --plugin examples/plugins/shallow-model.mjs --model shallow --dataset mnist --epochs 1
//   npx momentum-lab train --plugin examples/plugins/shallow-model.mjs --model '{"kind":"shallow","width":32}' …
// Outside this repository import from 'momentum-lab/dist/src/core/index.js' instead.
import { Flatten, Linear, LayerChain, ReLU, positiveInt, registerModelFamily } from '../../dist/src/core/index.js';

registerModelFamily({
  kind: 'shallow',
  // The spec a config gives ("shallow" or {"kind": "shallow", "width": 32}) with its defaults; errors name the knob.
  parse: (o, field) => ({ kind: 'shallow', width: positiveInt(o, 'width', 128, field) }),
  // The layers, in order; each declares its parameters on ctx.store as it is made (that order is the checkpoint's).
  build(spec, inShape, classes, ctx) {
    const net = new LayerChain(inShape);
    net.add(new Flatten(ctx, net.shape));
    net.add(new Linear(ctx, 'hidden', net.shape, spec.width));
    net.add(new ReLU(ctx, net.shape));
    net.add(new Linear(ctx, 'out', net.shape, classes));
    return net.layers;
  },
  // Optional: the advisor's measurement batch (default 64), the float64 twin for Hessian-vector products (default:
  // the same spec), a one-line label for reports, whether the paper suite measures its peak memory.
  measureSamples: 256,
});
