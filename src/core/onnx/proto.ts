/**
 * Reads an ONNX file (a ModelProto) with the `onnx-proto` package: ONNX's own onnx.proto compiled for protobufjs.
 * What the importer uses is turned into plain values here: tensors as float64 arrays, int64 fields as numbers, and
 * each node's attributes by name. Every problem is a one-line UserError naming the file: an empty, truncated or
 * non-ONNX file, a tensor whose bytes do not fill its shape, and weights stored in an external data file.
 */
import onnxProto from 'onnx-proto';
import { UserError } from '../util/errors.js';

const { onnx } = onnxProto;
// Decoded messages are class instances, whose repeated fields are always arrays.
type Tensor = InstanceType<typeof onnx.TensorProto>;
type Attribute = InstanceType<typeof onnx.AttributeProto>;
type ValueInfo = InstanceType<typeof onnx.ValueInfoProto>;
type Node = InstanceType<typeof onnx.NodeProto>;
type Graph = InstanceType<typeof onnx.GraphProto>;

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** TensorProto.DataType: 1 float, 6 int32, 7 int64, 9 bool, 11 double. */
  dataType: number;
  /** The values as float64 (int64 values past 2^53 lose precision, which no shape or weight needs). */
  values: Float64Array;
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** A dimension is a number, or its symbolic name (`batch`), or null when unknown. */
  shape: (number | string | null)[] | null;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  /** opset version per domain ('' is the default ai.onnx domain). */
  opsets: Map<string, number>;
  graph: OnnxGraph;
}

/** protobufjs gives int64 fields as Long objects where the `long` package loads (Node), as numbers otherwise. */
type Int64 = number | { toNumber(): number };
const num = (v: Int64 | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());
/** Whether a decoded message carries `field` (protobufjs keeps absent fields' defaults on the prototype). */
const has = (m: object, field: string): boolean => Object.prototype.hasOwnProperty.call(m, field);
const utf8 = new TextDecoder();

const WIDTH: Record<number, number> = { 1: 4, 6: 4, 7: 8, 9: 1, 11: 8 };

function readTensor(t: Tensor, file: string): OnnxTensor {
  const name = t.name ?? '';
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new UserError(`${file}: tensor ${name} is stored in an external data file; export the model with its weights inside (a model under 2 GB)`);
  }
  const dims = t.dims.map(num), dataType = t.dataType ?? 0;
  const count = dims.reduce((a, b) => a * b, 1);
  if (has(t, 'rawData')) {
    const b = t.rawData, width = WIDTH[dataType] ?? 0;
    if (width === 0) throw new UserError(`${file}: tensor ${name || '(unnamed)'} has data type ${dataType} (supported: float32, float64, int32, int64, bool)`);
    if (b.length !== count * width) throw new UserError(`${file}: tensor ${name} holds ${b.length} bytes, its shape [${dims.join(', ')}] needs ${count * width}`);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    const values = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const o = i * width;
      values[i] = dataType === 1 ? v.getFloat32(o, true) : dataType === 11 ? v.getFloat64(o, true)
        : dataType === 6 ? v.getInt32(o, true) : dataType === 9 ? v.getUint8(o) : Number(v.getBigInt64(o, true));
    }
    return { name, dims, dataType, values };
  }
  const listed: number[] = [...t.floatData, ...t.int32Data, ...t.int64Data.map(num), ...t.doubleData];
  if (listed.length !== count) throw new UserError(`${file}: tensor ${name} holds ${listed.length} values, its shape [${dims.join(', ')}] needs ${count}`);
  return { name, dims, dataType, values: Float64Array.from(listed) };
}

function readAttribute(a: Attribute, file: string): OnnxAttribute {
  const out: OnnxAttribute = { name: a.name ?? '', floats: [...a.floats], ints: a.ints.map(num) };
  if (has(a, 'f')) out.f = a.f;
  if (has(a, 'i')) out.i = num(a.i);
  if (has(a, 's')) out.s = utf8.decode(a.s);
  if (has(a, 't') && a.t !== null) out.t = readTensor(a.t as Tensor, file);
  return out;
}

function readValueInfo(v: ValueInfo): OnnxValueInfo {
  const tensor = v.type?.tensorType;
  const dims = tensor !== null && tensor !== undefined && has(tensor, 'shape') ? tensor.shape?.dim ?? [] : null;
  return {
    name: v.name ?? '',
    elemType: tensor?.elemType ?? 0,
    shape: dims === null ? null : dims.map((d) => (has(d, 'dimValue') ? num(d.dimValue) : has(d, 'dimParam') ? d.dimParam ?? null : null)),
  };
}

/** Why protobufjs could not decode `bytes`, in words for the one-line error. */
function decodeFailure(bytes: Uint8Array, e: unknown): string {
  if (bytes.length === 0) return 'empty file';
  // A message starts with a field tag; a varint whose every byte says "more follows" runs off the end of the file.
  let end = 0;
  while (end < bytes.length && (bytes[end]! & 0x80) !== 0) end++;
  if (end === bytes.length) return 'truncated varint at byte 0';
  const message = e instanceof Error ? e.message : String(e);
  return /index out of range/.test(message) ? 'truncated message' : message;
}

/** Reads an ONNX ModelProto; `file` names it in errors. */
export function parseOnnx(bytes: Uint8Array, file: string): OnnxModel {
  const fail = (why: string): never => {
    throw new UserError(`${file}: not a readable ONNX model (${why}); export it with torch.onnx.export`);
  };
  let m: InstanceType<typeof onnx.ModelProto>;
  try {
    if (bytes.length === 0) throw new Error('empty file');
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return fail(decodeFailure(bytes, e));
  }
  if (m.graph === null || m.graph === undefined || !has(m, 'graph')) return fail('no graph');
  const g = m.graph as Graph;
  const opsets = new Map<string, number>();
  for (const o of m.opsetImport) opsets.set(o.domain === 'ai.onnx' ? '' : o.domain ?? '', num(o.version));
  const graph: OnnxGraph = {
    nodes: (g.node as Node[]).map((n) => {
      const attributes = new Map<string, OnnxAttribute>();
      for (const a of n.attribute as Attribute[]) attributes.set(a.name ?? '', readAttribute(a, file));
      return { name: n.name ?? '', opType: n.opType ?? '', domain: n.domain ?? '', inputs: [...n.input], outputs: [...n.output], attributes };
    }),
    initializers: new Map(),
    inputs: (g.input as ValueInfo[]).map(readValueInfo),
    outputs: (g.output as ValueInfo[]).map(readValueInfo),
  };
  for (const t of g.initializer as Tensor[]) {
    const tensor = readTensor(t, file);
    graph.initializers.set(tensor.name, tensor);
  }
  return { opsets, graph };
}
