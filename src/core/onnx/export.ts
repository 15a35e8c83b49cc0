/**
 * An engine network → an ONNX file (opset 17) that onnxruntime and PyTorch users load: input `[batch, …sample]`
 * float32 with a dynamic batch axis, output `logits` `[batch, classes]`. The weights are the network's current
 * parameters; BatchNorm writes its running statistics (an eval-mode graph, as `model.eval()` exports). Each layer
 * becomes the nodes torch.onnx.export would write for it, so the importer (graph-to-model.ts) reads the file back:
 *   Linear → Gemm (transB 1) on [features], MatMul by Wᵀ + Add of the bias over the last axis otherwise; Relu if fused
 *   Conv2d → Conv (+ Relu)   MaxPool2d, AvgPool2d → MaxPool, AveragePool   GlobalAvgPool → GlobalAveragePool, Flatten
 *   BatchNorm → BatchNormalization (ONNX momentum 1 − PyTorch's)   LayerNorm → LayerNormalization (last axis)
 *   ReLU, Tanh, Sigmoid → Relu, Tanh, Sigmoid   GELU → x·½·(1 + erf(x/√2)) (Div, Erf, Add, Mul, Mul; Gelu is opset 20)
 *   Flatten, View → Flatten (axis 1) or Reshape   Permute → Transpose   Dropout → nothing (identity in eval mode)
 *   Residual, a graph's sum → Add (+ Relu if fused)   InputOp → Add, Sub, Mul or Div of a constant
 *   Patchify → Reshape, Transpose, Reshape   PositionalEmbedding → Add of the table   TokenMeanPool → ReduceMean
 *   SelfAttention → Split of q, k, v; per head q·kᵀ·scale (+ a −∞ mask when causal), Softmax, ·v; heads joined
 * A standardisation of the inputs (x·a_c + b_c per channel) becomes Mul and Add of constants at the input, so the
 * file takes raw data. Any other layer is a one-line UserError naming it.
 */
import onnxProto from 'onnx-proto';
import { prod, type Layer } from '../engine/layers/base.js';
import type { AvgPool2d, BatchNorm, Conv2d, LayerNorm, Linear, MaxPool2d, Patchify, PositionalEmbedding, Residual, SelfAttention, Sequential } from '../engine/layers/index.js';
import { UserError } from '../util/errors.js';
import type { GraphNet, InputOp, Permute } from './graph-net.js';

const { onnx } = onnxProto;

export const EXPORT_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
const IR_VERSION = 8;
export const EXPORTABLE_LAYERS = ['linear', 'conv2d', 'maxpool2d', 'avgpool2d', 'globalavgpool', 'batchnorm', 'layernorm', 'relu', 'tanh',
  'sigmoid', 'gelu', 'dropout', 'flatten', 'view', 'permute', 'residual', 'sequential', 'graph', 'inputop', 'patchify', 'posembedding',
  'tokenmeanpool', 'attention'];

/** Per-channel x ← x·scale_c + shift_c (channel = axis 0 of a [C, H, W] sample, one channel otherwise). */
export interface InputStandardization {
  scale: ArrayLike<number>;
  shift: ArrayLike<number>;
}

export interface OnnxExportOptions {
  /** The standardisation the training applied to the data, written into the graph so that the file takes raw data. */
  inputs?: InputStandardization;
  /** Written into the file's producer_name. */
  producer?: string;
}

/** Attributes that ONNX types as floats, whatever their value (a whole-number epsilon is still a float). */
const FLOAT_ATTRIBUTES = new Set(['epsilon', 'momentum']);

type NodeSpec = { op: string; inputs: string[]; attrs?: Record<string, number | number[] | string> };

class Emitter {
  readonly nodes: object[] = [];
  readonly initializers: object[] = [];
  private readonly names = new Set<string>();
  private count = 0;

  private fresh(base: string): string {
    let name = base, k = 1;
    while (this.names.has(name)) name = `${base}_${k++}`;
    this.names.add(name);
    return name;
  }

  /** A float32 initializer named after its parameter. */
  floats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    const n = this.fresh(name);
    const raw = new Uint8Array(Float32Array.from(values).buffer);
    this.initializers.push({ name: n, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw });
    return n;
  }

  ints(name: string, values: number[]): string {
    const n = this.fresh(name);
    const raw = new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
    this.initializers.push({ name: n, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw });
    return n;
  }

  node({ op, inputs, attrs = {} }: NodeSpec): string {
    const name = this.fresh(`/${op}_${this.count++}`), out = this.fresh(`${name}_output`);
    const attribute = Object.entries(attrs).map(([k, v]) => (typeof v === 'string'
      ? { name: k, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) }
      : Array.isArray(v) ? { name: k, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
        : Number.isInteger(v) && !FLOAT_ATTRIBUTES.has(k) ? { name: k, type: onnx.AttributeProto.AttributeType.INT, i: v }
          : { name: k, type: onnx.AttributeProto.AttributeType.FLOAT, f: v }));
    this.nodes.push({ name, opType: op, input: inputs, output: [out], attribute });
    return out;
  }

  /** Renames tensor `from` to `to` wherever a node writes or reads it. */
  rename(from: string, to: string): void {
    for (const n of this.nodes as { input: string[]; output: string[] }[]) {
      n.input = n.input.map((i) => (i === from ? to : i));
      n.output = n.output.map((o) => (o === from ? to : o));
    }
  }
}

const refuse = (layer: Layer): never => {
  throw new UserError(`layer ${layer.kind} [${layer.inShape.join(', ')}] → [${layer.outShape.join(', ')}] cannot be exported to ONNX (exportable: ${EXPORTABLE_LAYERS.join(', ')})`);
};

/** The layers' nodes from tensor `x`; returns the tensor that holds the layer's output. */
function emit(e: Emitter, layer: Layer, x: string): string {
  switch (layer.kind) {
    case 'sequential': return (layer as Sequential).layers.reduce((h, l) => emit(e, l, h), x);
    case 'dropout': return x;
    case 'flatten': case 'view':
      if (layer.outShape.length === layer.inShape.length && layer.outShape.every((d, i) => d === layer.inShape[i])) return x;
      return layer.outShape.length === 1 ? e.node({ op: 'Flatten', inputs: [x], attrs: { axis: 1 } })
        : e.node({ op: 'Reshape', inputs: [x, e.ints('shape', [-1, ...layer.outShape])] });
    case 'relu': return e.node({ op: 'Relu', inputs: [x] });
    case 'tanh': return e.node({ op: 'Tanh', inputs: [x] });
    case 'sigmoid': return e.node({ op: 'Sigmoid', inputs: [x] });
    case 'gelu': {
      const erf = e.node({ op: 'Erf', inputs: [e.node({ op: 'Div', inputs: [x, e.floats('sqrt2', [], [Math.SQRT2])] })] });
      const onePlus = e.node({ op: 'Add', inputs: [erf, e.floats('one', [], [1])] });
      return e.node({ op: 'Mul', inputs: [e.node({ op: 'Mul', inputs: [x, onePlus] }), e.floats('half', [], [0.5])] });
    }
    case 'linear': return linear(e, layer as Linear, x);
    case 'conv2d': {
      const c = layer as Conv2d;
      const inputs = [x, e.floats(c.weight.name, c.weight.shape, c.weight.data), ...(c.bias ? [e.floats(c.bias.name, c.bias.shape, c.bias.data)] : [])];
      const y = e.node({ op: 'Conv', inputs, attrs: { kernel_shape: [c.k, c.k], strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad] } });
      return c.relu ? e.node({ op: 'Relu', inputs: [y] }) : y;
    }
    case 'maxpool2d': case 'avgpool2d': {
      const p = layer as MaxPool2d | AvgPool2d;
      return e.node({ op: layer.kind === 'maxpool2d' ? 'MaxPool' : 'AveragePool', inputs: [x], attrs: { kernel_shape: [p.k, p.k], strides: [p.stride, p.stride] } });
    }
    case 'globalavgpool': return e.node({ op: 'Flatten', inputs: [e.node({ op: 'GlobalAveragePool', inputs: [x] })], attrs: { axis: 1 } });
    case 'batchnorm': {
      const bn = layer as BatchNorm;
      const C = bn.weight.size, name = bn.weight.name.replace(/\.weight$/, '');
      const inputs = [x, e.floats(bn.weight.name, [C], bn.weight.data), e.floats(bn.bias.name, [C], bn.bias.data),
        e.floats(`${name}.running_mean`, [C], bn.runningMean), e.floats(`${name}.running_var`, [C], bn.runningVar)];
      return e.node({ op: 'BatchNormalization', inputs, attrs: { epsilon: bn.eps, momentum: 1 - bn.momentum } });
    }
    case 'layernorm': {
      const ln = layer as LayerNorm;
      const inputs = [x, e.floats(ln.weight.name, ln.weight.shape, ln.weight.data), e.floats(ln.bias.name, ln.bias.shape, ln.bias.data)];
      return e.node({ op: 'LayerNormalization', inputs, attrs: { axis: -1, epsilon: ln.eps } });
    }
    case 'permute': return e.node({ op: 'Transpose', inputs: [x], attrs: { perm: [0, ...(layer as Permute).perm.map((p) => p + 1)] } });
    case 'inputop': {
      const op = layer as InputOp;
      return e.node({ op: op.op, inputs: [x, e.floats('input_constant', op.inShape, op.c)] });
    }
    case 'residual': {
      const r = layer as Residual;
      const main = emit(e, r.main, x), shortcut = r.shortcut === null ? x : emit(e, r.shortcut, x);
      const y = e.node({ op: 'Add', inputs: [main, shortcut] });
      return r.relu ? e.node({ op: 'Relu', inputs: [y] }) : y;
    }
    case 'graph': {
      const g = layer as GraphNet;
      const t: string[] = [x];
      for (const s of g.steps) {
        t[s.output] = s.layer === null ? e.node({ op: 'Add', inputs: [t[s.inputs[0]!]!, t[s.inputs[1]!]!] }) : emit(e, s.layer, t[s.inputs[0]!]!);
      }
      return t[g.output]!;
    }
    case 'patchify': {
      const [C, H, W] = layer.inShape as [number, number, number], p = (layer as Patchify).p;
      const blocks = e.node({ op: 'Reshape', inputs: [x, e.ints('shape', [-1, C, H / p, p, W / p, p])] });
      const tokens = e.node({ op: 'Transpose', inputs: [blocks], attrs: { perm: [0, 2, 4, 1, 3, 5] } });
      return e.node({ op: 'Reshape', inputs: [tokens, e.ints('shape', [-1, ...layer.outShape])] });
    }
    case 'posembedding': {
      const w = (layer as PositionalEmbedding).weight;
      return e.node({ op: 'Add', inputs: [x, e.floats(w.name, w.shape, w.data)] });
    }
    case 'tokenmeanpool': return e.node({ op: 'ReduceMean', inputs: [x], attrs: { axes: [1], keepdims: 0 } });
    case 'attention': return attention(e, layer as SelfAttention, x);
    default: return refuse(layer);
  }
}

function linear(e: Emitter, l: Linear, x: string): string {
  const [O, I] = l.weight.shape as [number, number];
  const bias = l.bias === null ? [] : [e.floats(l.bias.name, [O], l.bias.data)];
  let y: string;
  if (l.inShape.length === 1) {
    y = e.node({ op: 'Gemm', inputs: [x, e.floats(l.weight.name, [O, I], l.weight.data), ...bias], attrs: { transB: 1 } });
  } else {
    // MatMul multiplies by [in, out]: the weight goes in transposed, as torch exports a Linear over a sequence.
    const w = l.weight.data, wt = new Float64Array(O * I);
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) wt[i * O + o] = w[o * I + i]!;
    y = e.node({ op: 'MatMul', inputs: [x, e.floats(l.weight.name, [I, O], wt)] });
    if (bias.length > 0) y = e.node({ op: 'Add', inputs: [y, bias[0]!] });
  }
  return l.relu ? e.node({ op: 'Relu', inputs: [y] }) : y;
}

/** qkv [n, T, 3D] → [n, T, D]: softmax(q·kᵀ/√(D/H)) v per head, as SelfAttention computes it. */
function attention(e: Emitter, a: SelfAttention, x: string): string {
  const [T, D3] = a.inShape as [number, number], D = D3 / 3, H = a.heads, hs = D / H;
  const [q, k, v] = ['q', 'k', 'v'].map((_, i) => e.node({ op: 'Slice', inputs: [x, e.ints('starts', [i * D]), e.ints('ends', [(i + 1) * D]), e.ints('axes', [2])] }));
  const heads = (t: string, perm: number[]): string => e.node({
    op: 'Transpose', inputs: [e.node({ op: 'Reshape', inputs: [t, e.ints('shape', [-1, T, H, hs])] })], attrs: { perm },
  });
  let scores = e.node({ op: 'MatMul', inputs: [heads(q!, [0, 2, 1, 3]), heads(k!, [0, 2, 3, 1])] });
  scores = e.node({ op: 'Mul', inputs: [scores, e.floats('scale', [], [1 / Math.sqrt(hs)])] });
  if (a.causal) {
    const mask = new Float64Array(T * T);
    for (let t = 0; t < T; t++) for (let u = t + 1; u < T; u++) mask[t * T + u] = -Infinity;
    scores = e.node({ op: 'Add', inputs: [scores, e.floats('causal_mask', [T, T], mask)] });
  }
  const att = e.node({ op: 'Softmax', inputs: [scores], attrs: { axis: -1 } });
  const y = e.node({ op: 'Transpose', inputs: [e.node({ op: 'MatMul', inputs: [att, heads(v!, [0, 2, 1, 3])] })], attrs: { perm: [0, 2, 1, 3] } });
  return e.node({ op: 'Reshape', inputs: [y, e.ints('shape', [-1, T, D])] });
}

/** Throws the one-line UserError of the first layer of `net` that has no ONNX form (before a run starts). */
export function checkExportable(net: Layer): void {
  emit(new Emitter(), net, 'input');
}

/** The ONNX ModelProto bytes of `net` (samples of `net.inShape`, `net.outShape` = [classes]) with its current weights. */
export function exportOnnx(net: Layer, opts: OnnxExportOptions = {}): Uint8Array {
  const e = new Emitter();
  let x = 'input';
  if (opts.inputs !== undefined) {
    const shape = net.inShape, C = shape.length === 3 ? shape[0]! : 1;
    const dims = shape.length === 3 ? [C, 1, 1] : [1];
    if (opts.inputs.scale.length !== C || opts.inputs.shift.length !== C) throw new Error(`exportOnnx: standardisation of ${opts.inputs.scale.length} channels for samples [${shape.join(', ')}]`);
    x = e.node({ op: 'Mul', inputs: [x, e.floats('input_scale', dims, opts.inputs.scale)] });
    x = e.node({ op: 'Add', inputs: [x, e.floats('input_shift', dims, opts.inputs.shift)] });
  }
  const out = emit(e, net, x);
  if (prod(net.outShape) !== net.outShape[0]) throw new Error(`exportOnnx: the network's output [${net.outShape.join(', ')}] is not one logit per class`);
  if (out === 'input') e.node({ op: 'Identity', inputs: ['input'] });
  e.rename(out === 'input' ? (e.nodes[e.nodes.length - 1] as { output: string[] }).output[0]! : out, 'logits');
  const valueInfo = (name: string, dims: readonly number[]): object => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, ...dims.map((d) => ({ dimValue: d }))] } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: opts.producer ?? 'momentum-lab',
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    graph: {
      name: 'momentum-lab',
      node: e.nodes,
      initializer: e.initializers,
      input: [valueInfo('input', net.inShape)],
      output: [valueInfo('logits', net.outShape)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
