/**
 * A graph written by `torch.onnx.export` (opset 13–17) → the engine's layers over the model's ParameterStore, the
 * file's initializers as their initial weights. Each node becomes one layer, or a sum for a residual `Add`:
 *   Gemm (transB), MatMul + Add of a bias → Linear      Conv (square kernel, dilation 1, group 1) → Conv2d
 *   MaxPool, AveragePool (no padding), GlobalAveragePool   BatchNormalization
 *   LayerNormalization (last axis), or its decomposed form (ReduceMean … Sqrt, Div, Mul, Add) from opsets 13–16
 *   Relu, Tanh, Sigmoid, Gelu and its Erf form (x·½·(1 + erf(x/√2))), Dropout
 *   Transpose that keeps the batch axis first → Permute
 *   Add, Sub, Mul, Div of a constant at the graph's input (standardisation of raw data) → InputOp
 *   Flatten, Reshape, Identity, a Pad of zeros, a final Softmax/LogSoftmax (folded into the cross-entropy loss) → views
 *   Shape, Gather, Unsqueeze, Concat of shapes → folded into constants (x.view(x.size(0), -1))
 * Anything else is a one-line UserError naming the file, the node and its op type. Nodes run in the file's order,
 * which the ONNX format requires to be topological.
 */
import { AvgPool2d, BatchNorm, Conv2d, Dropout, GELU, GlobalAvgPool, LayerNorm, Linear, MaxPool2d, ReLU, Tanh, type BuildContext, type Layer } from '../engine/layers/index.js';
import { prod } from '../engine/layers/base.js';
import type { Param } from '../engine/params.js';
import { UserError } from '../util/errors.js';
import { GraphNet, InputOp, Permute, Sigmoid, View, type GraphStep, type InputOpKind } from './graph-net.js';
import type { OnnxModel, OnnxNode, OnnxTensor } from './proto.js';

export const OPSETS = { min: 13, max: 17 };
export const SUPPORTED_OPS = ['Gemm', 'MatMul', 'Add', 'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization',
  'LayerNormalization (or its decomposed form)', 'Relu', 'Tanh', 'Sigmoid', 'Gelu', 'Erf (as GELU)', 'Dropout', 'Flatten', 'Reshape', 'Transpose (batch first)', 'Identity', 'Pad (zeros)',
  'Add, Sub, Mul, Div of a constant at the input',
  'Constant', 'Softmax', 'LogSoftmax (last)', 'Shape, Gather, Unsqueeze, Concat (of shapes, as x.view(x.size(0), -1) exports)'];

/** Which file initializer a parameter starts from; `transposed` when the parameter is its transpose (MatMul weights). */
export interface OnnxBinding {
  readonly initializer: string;
  readonly param: Param;
  readonly transposed: boolean;
}

export interface OnnxNetwork {
  readonly net: GraphNet;
  readonly bindings: OnnxBinding[];
}

/**
 * Builds the network of `model` for samples of shape `inShape` and `classes` logits; `file` names it in errors.
 * Without `dropout` the graph's Dropout nodes pass values through (a deterministic network for the advisor).
 */
export function graphToNetwork(model: OnnxModel, file: string, inShape: readonly number[], classes: number, ctx: BuildContext,
  dropout = true): OnnxNetwork {
  return new Builder(model, file, ctx, dropout).build(inShape, classes);
}

const fmt = (s: readonly (number | string | null)[]): string => `[${s.map((d) => d ?? '?').join(', ')}]`;

class Builder {
  private readonly consts = new Map<string, OnnxTensor>();
  private readonly ids = new Map<string, number>();
  private readonly shapes: (readonly number[])[] = [];
  private readonly steps: GraphStep[] = [];
  private readonly bindings: OnnxBinding[] = [];
  private readonly readers = new Map<string, OnnxNode[]>();
  private readonly done = new Set<OnnxNode>();
  /** The graph's input and the results of constant ops applied to it (InputOp), before any other layer. */
  private readonly atInput = new Set<string>();

  constructor(private readonly model: OnnxModel, private readonly file: string, private readonly ctx: BuildContext,
    private readonly dropout: boolean) {
    for (const [name, t] of model.graph.initializers) this.consts.set(name, t);
    for (const node of model.graph.nodes) {
      for (const i of node.inputs) this.readers.set(i, [...(this.readers.get(i) ?? []), node]);
      // Constants first: a pattern (GELU's Erf form) may read one that the exporter wrote after its first node.
      const t = node.opType === 'Constant' ? node.attributes.get('value')?.t : undefined;
      if (t !== undefined) this.consts.set(node.outputs[0]!, { ...t, name: node.outputs[0]! });
    }
  }

  private fail(node: OnnxNode, why: string): never {
    throw new UserError(`${this.file}: node ${node.name || node.outputs[0]} (${node.opType}) ${why}`);
  }

  build(inShape: readonly number[], classes: number): OnnxNetwork {
    const { graph, opsets } = this.model;
    const opset = opsets.get('') ?? 0;
    if (opset < OPSETS.min || opset > OPSETS.max) {
      throw new UserError(`${this.file}: opset ${opset} is not supported (export with torch.onnx.export(..., opset_version=${OPSETS.min}..${OPSETS.max}))`);
    }
    const inputs = graph.inputs.filter((v) => !this.consts.has(v.name));
    if (inputs.length !== 1) throw new UserError(`${this.file}: the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}); a classifier has one`);
    const input = inputs[0]!;
    const fileShape = input.shape;
    if (fileShape !== null) {
      const per = fileShape.slice(1);
      if (per.length !== inShape.length || per.some((d, i) => typeof d === 'number' && d !== inShape[i])) {
        throw new UserError(`${this.file}: input ${input.name} has shape ${fmt(fileShape)}, but the data's samples have shape [${inShape.join(', ')}] (batch first)`);
      }
    }
    this.tensor(input.name, inShape);
    this.atInput.add(input.name);
    for (const node of graph.nodes) if (!this.done.has(node)) this.node(node);
    const out = graph.outputs[0];
    const id = out === undefined ? undefined : this.ids.get(out.name);
    if (out === undefined || id === undefined) throw new UserError(`${this.file}: the graph's output is not computed from its input`);
    const k = prod(this.shapes[id]!);
    if (k !== classes) throw new UserError(`${this.file}: the model gives ${k} outputs per sample, but the data has ${classes} classes`);
    if (this.shapes[id]!.length !== 1) this.step(new View(this.ctx, this.shapes[id]!, [k]), out.name, out.name);
    return { net: new GraphNet(this.ctx.backend, this.shapes, this.steps, this.ids.get(out.name)!), bindings: this.bindings };
  }

  private tensor(name: string, shape: readonly number[]): number {
    this.shapes.push(shape);
    this.ids.set(name, this.shapes.length - 1);
    return this.shapes.length - 1;
  }

  private input(node: OnnxNode, i = 0): { id: number; shape: readonly number[] } {
    const id = this.ids.get(node.inputs[i] ?? '');
    if (id === undefined) this.fail(node, `needs input ${node.inputs[i]} computed from the graph's input (a constant there is not supported)`);
    return { id, shape: this.shapes[id]! };
  }

  private step(layer: Layer | null, from: string | [string, string], to: string): void {
    const inputs = (typeof from === 'string' ? [from] : from).map((n) => this.ids.get(n)!);
    const shape = layer === null ? this.shapes[inputs[0]!]! : layer.outShape;
    this.steps.push({ layer, inputs, output: this.tensor(to, shape) });
  }

  private constant(node: OnnxNode, i: number, what: string): OnnxTensor {
    const t = this.consts.get(node.inputs[i] ?? '');
    if (t === undefined) this.fail(node, `needs ${what} as an initializer or a Constant`);
    return t;
  }

  private ints(node: OnnxNode, name: string, d: number[]): number[] {
    const a = node.attributes.get(name);
    return a === undefined ? d : a.ints;
  }

  private int(node: OnnxNode, name: string, d: number): number {
    return node.attributes.get(name)?.i ?? d;
  }

  private float(node: OnnxNode, name: string, d: number): number {
    return node.attributes.get(name)?.f ?? d;
  }

  private bind(p: Param, t: OnnxTensor, transposed = false): void {
    let values = t.values;
    if (transposed) {
      const [r, c] = t.dims as [number, number];
      values = new Float64Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) values[j * r + i] = t.values[i * c + j]!;
    }
    this.ctx.store.initFrom(p, values);
    this.bindings.push({ initializer: t.name, param: p, transposed });
  }

  /** The node that alone reads `name`, if it is an `op`. */
  private soleReader(name: string, op: string): OnnxNode | null {
    const r = this.readers.get(name) ?? [];
    return r.length === 1 && r[0]!.opType === op && !this.done.has(r[0]!) ? r[0]! : null;
  }

  private scalar(name: string | undefined): number | null {
    const t = this.consts.get(name ?? '');
    return t !== undefined && t.values.length === 1 ? t.values[0]! : null;
  }

  private node(node: OnnxNode): void {
    const ctx = this.ctx, out = node.outputs[0]!, name = node.name || out;
    if (node.domain !== '' && node.domain !== 'ai.onnx') this.fail(node, `is in domain ${node.domain}; only the default ONNX domain is supported`);
    if (this.isInputOp(node)) return this.inputOp(node);
    switch (node.opType) {
      case 'Constant': {
        const t = node.attributes.get('value')?.t;
        if (t === undefined) this.fail(node, 'has no tensor value');
        this.consts.set(out, { ...t, name: out });
        return;
      }
      case 'Identity': case 'Dropout': case 'Pad': case 'Softmax': case 'LogSoftmax': return this.passThrough(node);
      case 'Relu': return this.step(new ReLU(ctx, this.input(node).shape), node.inputs[0]!, out);
      case 'Tanh': return this.step(new Tanh(ctx, this.input(node).shape), node.inputs[0]!, out);
      case 'Sigmoid': return this.step(new Sigmoid(ctx, this.input(node).shape), node.inputs[0]!, out);
      case 'Gelu':
        if ((node.attributes.get('approximate')?.s ?? 'none') !== 'none') this.fail(node, 'uses the tanh approximation; only the exact (erf) GELU is supported');
        return this.step(new GELU(ctx, this.input(node).shape), node.inputs[0]!, out);
      case 'Div': return this.erfGelu(node);
      case 'ReduceMean': return this.decomposedLayerNorm(node);
      case 'Gemm': return this.gemm(node);
      case 'MatMul': return this.matmul(node);
      case 'Add': {
        const a = this.input(node, 0), b = this.input(node, 1);
        if (fmt(a.shape) !== fmt(b.shape)) this.fail(node, `adds shapes ${fmt(a.shape)} and ${fmt(b.shape)}; only equal shapes are supported`);
        return this.step(null, [node.inputs[0]!, node.inputs[1]!], out);
      }
      case 'Conv': return this.conv(node);
      case 'MaxPool': case 'AveragePool': return this.pool(node);
      case 'GlobalAveragePool': {
        const x = this.input(node);
        if (x.shape.length !== 3) this.fail(node, `needs [C, H, W] inputs, got ${fmt(x.shape)}`);
        const pool = new GlobalAvgPool(ctx, x.shape);
        this.step(pool, node.inputs[0]!, `${out}#pooled`);
        return this.step(new View(ctx, pool.outShape, [x.shape[0]!, 1, 1]), `${out}#pooled`, out);
      }
      case 'BatchNormalization': {
        const x = this.input(node);
        if (this.int(node, 'training_mode', 0) !== 0 || node.outputs.length > 1) this.fail(node, 'is exported in training mode; export the model in eval mode (model.eval())');
        const bn = new BatchNorm(ctx, name, x.shape, 1 - this.float(node, 'momentum', 0.9), this.float(node, 'epsilon', 1e-5));
        this.bind(bn.weight, this.constant(node, 1, 'scale'));
        this.bind(bn.bias, this.constant(node, 2, 'B'));
        bn.runningMean.set(this.constant(node, 3, 'mean').values);
        bn.runningVar.set(this.constant(node, 4, 'var').values);
        return this.step(bn, node.inputs[0]!, out);
      }
      case 'LayerNormalization': {
        const x = this.input(node), axis = this.int(node, 'axis', -1);
        if (axis !== -1 && axis !== x.shape.length) this.fail(node, `normalises from axis ${axis}; only the last axis is supported`);
        const ln = new LayerNorm(ctx, name, x.shape, this.float(node, 'epsilon', 1e-5));
        this.bind(ln.weight, this.constant(node, 1, 'Scale'));
        if (node.inputs[2]) this.bind(ln.bias, this.constant(node, 2, 'B'));
        else ctx.store.initFrom(ln.bias, new Float64Array(ln.bias.size));
        return this.step(ln, node.inputs[0]!, out);
      }
      case 'Flatten': {
        const x = this.input(node);
        if (this.int(node, 'axis', 1) !== 1) this.fail(node, 'flattens from an axis other than 1; only Flatten(axis=1) is supported');
        return this.step(new View(ctx, x.shape, [prod(x.shape)]), node.inputs[0]!, out);
      }
      case 'Reshape': return this.reshape(node);
      case 'Transpose': {
        const x = this.input(node), perm = this.ints(node, 'perm', [...x.shape.keys(), x.shape.length].reverse());
        if (perm.length !== x.shape.length + 1 || perm[0] !== 0) this.fail(node, `permutes axes [${perm.join(', ')}]; only permutations that keep the batch axis 0 first are supported`);
        return this.step(new Permute(ctx, x.shape, perm.slice(1).map((p) => p - 1)), node.inputs[0]!, out);
      }
      case 'Shape': case 'Gather': case 'Unsqueeze': case 'Concat': return this.shapeArithmetic(node);
      default:
        this.fail(node, `is not supported (supported: ${SUPPORTED_OPS.join(', ')})`);
    }
  }

  /** x ∘ c at the graph's input, with x from the input and c a constant (either order for Add and Mul). */
  private isInputOp(node: OnnxNode): boolean {
    const op = node.opType, [a = '', b = ''] = node.inputs;
    if (op !== 'Add' && op !== 'Sub' && op !== 'Mul' && op !== 'Div') return false;
    if (op === 'Div' && this.soleReader(node.outputs[0]!, 'Erf') !== null) return false; // GELU's Erf form
    const commutes = op === 'Add' || op === 'Mul';
    return (this.atInput.has(a) && this.consts.has(b)) || (commutes && this.atInput.has(b) && this.consts.has(a));
  }

  /** The constant of an InputOp, broadcast (numpy rules) over one sample [1, …inShape] and expanded to its values. */
  private inputOp(node: OnnxNode): void {
    const xName = this.atInput.has(node.inputs[0]!) && !this.consts.has(node.inputs[0]!) ? node.inputs[0]! : node.inputs[1]!;
    const x = this.input(node, node.inputs.indexOf(xName)), c = this.consts.get(node.inputs.find((i) => i !== xName) ?? xName)!;
    const full = [1, ...x.shape], lead = full.length - c.dims.length;
    if (lead < 0 || c.dims.some((d, i) => d !== 1 && d !== full[lead + i])) {
      this.fail(node, `has a constant of shape ${fmt(c.dims)} that does not broadcast over the samples [batch, ${x.shape.join(', ')}]`);
    }
    const dims = full.slice(1), cDims = full.map((_, i) => (i < lead ? 1 : c.dims[i - lead]!)).slice(1);
    const values = new Float64Array(prod(dims)), idx = dims.map(() => 0);
    for (let j = 0; j < values.length; j++) {
      let src = 0;
      for (let k = 0; k < dims.length; k++) src = src * cDims[k]! + (cDims[k] === 1 ? 0 : idx[k]!);
      values[j] = c.values[src]!;
      for (let k = dims.length - 1; k >= 0 && ++idx[k]! === dims[k]!; k--) idx[k] = 0;
    }
    this.step(new InputOp(this.ctx, x.shape, node.opType as InputOpKind, values), xName, node.outputs[0]!);
    this.atInput.add(node.outputs[0]!);
  }

  /** Nodes that change no value the engine computes: Identity, Dropout (a layer only when it drops), zero Pad, a last Softmax. */
  private passThrough(node: OnnxNode): void {
    const out = node.outputs[0]!, from = node.inputs[0]!;
    if (node.opType === 'Identity' && this.consts.has(from)) { this.consts.set(out, this.consts.get(from)!); return; }
    const x = this.input(node);
    if (node.opType === 'Dropout') {
      if (node.outputs.length > 1 && node.outputs[1] !== '' && this.readers.has(node.outputs[1]!)) this.fail(node, 'has its mask read by another node');
      const p = this.scalar(node.inputs[1]) ?? node.attributes.get('ratio')?.f ?? 0.5;
      if (!(p >= 0 && p < 1)) this.fail(node, `has ratio ${p}; a dropout ratio is in [0, 1)`);
      if (this.dropout && p > 0) return this.step(new Dropout(this.ctx, x.shape, p), from, out);
    }
    if (node.opType === 'Pad') {
      const pads = this.consts.get(node.inputs[1] ?? '');
      if (pads === undefined || pads.values.some((v) => v !== 0) || (this.scalar(node.inputs[2]) ?? 0) !== 0) this.fail(node, 'pads with non-zero widths; only a Pad of zero width is supported');
    }
    if (node.opType === 'Softmax' || node.opType === 'LogSoftmax') {
      const last = this.model.graph.outputs.some((o) => o.name === out);
      const axis = this.int(node, 'axis', -1);
      if (!last || x.shape.length !== 1 || (axis !== -1 && axis !== 1)) this.fail(node, 'is supported only as the last node, over the classes (it is folded into the cross-entropy loss)');
    }
    this.step(new View(this.ctx, x.shape, x.shape), from, out);
  }

  /** GELU as torch exports it: Div(x, √2) → Erf → Add 1 → Mul x → Mul ½ (or Mul ½ before Mul x). */
  private erfGelu(div: OnnxNode): void {
    const x = div.inputs[0]!;
    const erf = this.soleReader(div.outputs[0]!, 'Erf');
    const add = erf && this.soleReader(erf.outputs[0]!, 'Add');
    const one = add && add.inputs.map((i) => this.scalar(i)).find((v) => v !== null);
    let m1 = add && this.soleReader(add.outputs[0]!, 'Mul');
    let m2 = m1 && this.soleReader(m1.outputs[0]!, 'Mul');
    const other = (m: OnnxNode | null, prev: string): string | undefined => m?.inputs.find((i) => i !== prev);
    let okMuls = m1 !== null && m2 !== null && other(m1, add!.outputs[0]!) === x && this.scalar(other(m2, m1.outputs[0]!)) === 0.5;
    if (!okMuls && m1 && m2 && this.scalar(other(m1, add!.outputs[0]!)) === 0.5 && other(m2, m1.outputs[0]!) === x) okMuls = true;
    if (Math.abs((this.scalar(div.inputs[1]) ?? 0) - Math.SQRT2) > 1e-6 || one !== 1 || !okMuls) {
      this.fail(div, `is not supported (supported: ${SUPPORTED_OPS.join(', ')}; a Div only within GELU's Erf form)`);
    }
    for (const n of [erf!, add!, m1!, m2!]) this.done.add(n);
    this.step(new GELU(this.ctx, this.input(div).shape), x, m2!.outputs[0]!);
  }

  /**
   * LayerNorm over the last axis as opsets before 17 spell it: ReduceMean → Sub → Pow 2 → ReduceMean → Add ε → Sqrt →
   * Div, then Mul γ and Add β when it is affine.
   */
  private decomposedLayerNorm(rm1: OnnxNode): void {
    const x = this.input(rm1), rank = x.shape.length;
    const lastAxis = (n: OnnxNode | null): boolean => {
      const a = n === null ? [] : this.ints(n, 'axes', []);
      return n !== null && a.length === 1 && (a[0] === -1 || a[0] === rank) && this.int(n, 'keepdims', 1) === 1;
    };
    const sub = this.soleReader(rm1.outputs[0]!, 'Sub');
    const subReaders = sub === null ? [] : this.readers.get(sub.outputs[0]!) ?? [];
    const pow = subReaders.find((n) => n.opType === 'Pow') ?? null;
    const div = subReaders.find((n) => n.opType === 'Div') ?? null;
    const rm2 = pow && this.soleReader(pow.outputs[0]!, 'ReduceMean');
    const addEps = rm2 && this.soleReader(rm2.outputs[0]!, 'Add');
    const eps = addEps && this.scalar(addEps.inputs.find((i) => i !== rm2!.outputs[0]));
    const sqrt = addEps && this.soleReader(addEps.outputs[0]!, 'Sqrt');
    const ok = lastAxis(rm1) && sub !== null && sub.inputs[0] === rm1.inputs[0] && sub.inputs[1] === rm1.outputs[0] && subReaders.length === 2
      && pow !== null && this.scalar(pow.inputs[1]) === 2 && lastAxis(rm2) && eps !== null && eps > 0 && sqrt !== null
      && div !== null && div.inputs[0] === sub.outputs[0] && div.inputs[1] === sqrt.outputs[0] && this.soleReader(sqrt.outputs[0]!, 'Div') === div;
    if (!ok) this.fail(rm1, `is supported only within LayerNorm's decomposed form (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β) over the last axis`);
    const D = x.shape[rank - 1]!;
    const affine = (after: OnnxNode, op: string): [OnnxNode, OnnxTensor] | null => {
      const n = this.soleReader(after.outputs[0]!, op);
      const t = n === null ? undefined : this.consts.get(n.inputs.find((i) => i !== after.outputs[0]) ?? '');
      return n !== null && t !== undefined && t.values.length === D ? [n, t] : null;
    };
    const mul = affine(div, 'Mul'), add = mul === null ? null : affine(mul[0], 'Add');
    const ln = new LayerNorm(this.ctx, rm1.name || rm1.outputs[0]!, x.shape, eps);
    if (mul !== null) this.bind(ln.weight, mul[1]); else this.ctx.store.initFrom(ln.weight, new Float64Array(D).fill(1));
    if (add !== null) this.bind(ln.bias, add[1]); else this.ctx.store.initFrom(ln.bias, new Float64Array(D));
    const last = add?.[0] ?? mul?.[0] ?? div;
    for (const n of [sub, pow, rm2!, addEps!, sqrt, div, mul?.[0], add?.[0]]) if (n) this.done.add(n);
    this.step(ln, rm1.inputs[0]!, last.outputs[0]!);
  }

  private gemm(node: OnnxNode): void {
    const x = this.input(node), w = this.constant(node, 1, 'B (the weight)');
    if (this.float(node, 'alpha', 1) !== 1 || this.float(node, 'beta', 1) !== 1 || this.int(node, 'transA', 0) !== 0) this.fail(node, 'needs alpha 1, beta 1 and transA 0');
    if (x.shape.length !== 1 || w.dims.length !== 2) this.fail(node, `needs [features] inputs and a 2-D weight, got ${fmt(x.shape)} and ${fmt(w.dims)}`);
    const transB = this.int(node, 'transB', 0) === 1;
    const [O, I] = transB ? w.dims as [number, number] : [w.dims[1]!, w.dims[0]!];
    if (I !== x.shape[0]) this.fail(node, `has a weight for ${I} inputs, its input has ${x.shape[0]}`);
    const c = node.inputs[2] ? this.constant(node, 2, 'C (the bias)') : null;
    if (c !== null && c.values.length !== O) this.fail(node, `has a bias C of shape ${fmt(c.dims)}; only a bias of ${O} values is supported`);
    const lin = new Linear(this.ctx, node.name || node.outputs[0]!, x.shape, O, c !== null);
    this.bind(lin.weight, w, !transB);
    if (c !== null) this.bind(lin.bias!, c);
    this.step(lin, node.inputs[0]!, node.outputs[0]!);
  }

  /** MatMul by a weight [I, O], and the Add of a bias [O] that follows it, as one Linear over the last axis. */
  private matmul(node: OnnxNode): void {
    const x = this.input(node), w = this.constant(node, 1, 'its second input (the weight)');
    if (w.dims.length !== 2 || w.dims[0] !== x.shape[x.shape.length - 1]) this.fail(node, `multiplies ${fmt(x.shape)} by ${fmt(w.dims)}; only a weight [in, out] on the last axis is supported`);
    const O = w.dims[1]!;
    const add = this.soleReader(node.outputs[0]!, 'Add');
    const biasName = add?.inputs.find((i) => i !== node.outputs[0]);
    const bias = biasName === undefined ? undefined : this.consts.get(biasName);
    const fused = add !== null && bias !== undefined && bias.values.length === O;
    const lin = new Linear(this.ctx, node.name || node.outputs[0]!, x.shape, O, fused);
    this.bind(lin.weight, w, true);
    if (fused) { this.bind(lin.bias!, bias); this.done.add(add); }
    this.step(lin, node.inputs[0]!, fused ? add.outputs[0]! : node.outputs[0]!);
  }

  private conv(node: OnnxNode): void {
    const x = this.input(node), w = this.constant(node, 1, 'W (the weight)');
    const k = this.ints(node, 'kernel_shape', w.dims.slice(2)), s = this.ints(node, 'strides', [1, 1]), p = this.ints(node, 'pads', [0, 0, 0, 0]);
    const ok = x.shape.length === 3 && w.dims.length === 4 && k.length === 2 && k[0] === k[1] && s[0] === s[1] && p.every((v) => v === p[0])
      && this.ints(node, 'dilations', [1, 1]).every((d) => d === 1) && this.int(node, 'group', 1) === 1
      && (node.attributes.get('auto_pad')?.s ?? 'NOTSET') === 'NOTSET' && w.dims[1] === x.shape[0];
    if (!ok) this.fail(node, 'is supported only as a 2-D convolution with a square kernel, equal strides and pads, dilation 1 and group 1');
    const b = node.inputs[2] ? this.constant(node, 2, 'B (the bias)') : null;
    const conv = new Conv2d(this.ctx, node.name || node.outputs[0]!, x.shape, w.dims[0]!, k[0]!, s[0]!, p[0]!, b !== null);
    this.bind(conv.weight, w);
    if (b !== null) this.bind(conv.bias!, b);
    this.step(conv, node.inputs[0]!, node.outputs[0]!);
  }

  private pool(node: OnnxNode): void {
    const x = this.input(node), k = this.ints(node, 'kernel_shape', []), s = this.ints(node, 'strides', k);
    const ok = x.shape.length === 3 && k.length === 2 && k[0] === k[1] && s[0] === s[1] && this.ints(node, 'pads', [0]).every((v) => v === 0)
      && this.int(node, 'ceil_mode', 0) === 0 && this.ints(node, 'dilations', [1]).every((d) => d === 1)
      && (node.attributes.get('auto_pad')?.s ?? 'NOTSET') === 'NOTSET';
    if (!ok) this.fail(node, 'is supported only with a square window, equal strides, no padding, ceil_mode 0 and dilation 1');
    const layer = node.opType === 'MaxPool' ? new MaxPool2d(this.ctx, x.shape, k[0]!, s[0]!) : new AvgPool2d(this.ctx, x.shape, k[0]!, s[0]!);
    this.step(layer, node.inputs[0]!, node.outputs[0]!);
  }

  /**
   * The shape computations of `x.view(x.size(0), -1)`, folded into constants: Shape of a tensor gives its dimensions
   * with 0 for the batch (which Reshape reads as "keep this dimension"); Gather, Unsqueeze and Concat of 1-D constants.
   */
  private shapeArithmetic(node: OnnxNode): void {
    const out = node.outputs[0]!;
    const konst = (values: number[], dims: number[]): void => { this.consts.set(out, { name: out, dims, dataType: 7, values: Float64Array.from(values) }); };
    if (node.opType === 'Shape') {
      if (node.attributes.has('start') || node.attributes.has('end')) this.fail(node, 'takes a slice of the shape; only the whole shape is supported');
      const x = this.input(node);
      return konst([0, ...x.shape], [x.shape.length + 1]);
    }
    const ins = node.inputs.map((i) => this.consts.get(i));
    if (ins.some((t) => t === undefined)) this.fail(node, 'is supported only on constant shapes (as x.view(x.size(0), -1) exports)');
    const [a, b] = ins as OnnxTensor[];
    if (node.opType === 'Gather') {
      if (a!.dims.length !== 1 || this.int(node, 'axis', 0) !== 0) this.fail(node, 'is supported only on a 1-D shape');
      const idx = [...b!.values].map((i) => (i < 0 ? i + a!.values.length : i));
      if (idx.some((i) => !(i >= 0 && i < a!.values.length))) this.fail(node, `gathers index ${[...b!.values].join(', ')} out of the shape's ${a!.values.length}`);
      return konst(idx.map((i) => a!.values[i]!), b!.dims);
    }
    if (node.opType === 'Unsqueeze') {
      const axes = b === undefined ? this.ints(node, 'axes', []) : [...b.values];
      if (a!.dims.length + axes.length !== 1) this.fail(node, 'is supported only from a scalar to a 1-D shape');
      return konst([...a!.values], [a!.values.length]);
    }
    if (this.int(node, 'axis', 0) !== 0 || ins.some((t) => t!.dims.length !== 1)) this.fail(node, 'is supported only on 1-D shapes along axis 0');
    const values = ins.flatMap((t) => [...t!.values]);
    konst(values, [values.length]);
  }

  /** A Reshape to a constant shape whose first dimension is the batch (-1, 0 or the exporter's batch of 1). */
  private reshape(node: OnnxNode): void {
    const x = this.input(node), target = [...this.constant(node, 1, 'a constant shape').values];
    const size = prod(x.shape);
    const per = target.slice(1).map((d, i) => (d === 0 ? x.shape[i] ?? NaN : d));
    const known = per.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const shape = per.map((d) => (d === -1 ? size / known : d));
    if (target.length === 0 || ![-1, 0, 1].includes(target[0]!) || per.filter((d) => d === -1).length > 1 || prod(shape) !== size || !shape.every(Number.isInteger)) {
      this.fail(node, `reshapes ${fmt(x.shape)} to ${fmt(target)}; only reshapes that keep the batch first and the sample size (${size}) are supported`);
    }
    this.step(new View(this.ctx, x.shape, shape), node.inputs[0]!, node.outputs[0]!);
  }
}
