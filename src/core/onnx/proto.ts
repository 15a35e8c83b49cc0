/**
 * The parts of an ONNX file (onnx.proto, protobuf wire format) that a graph from `torch.onnx.export` uses:
 *   ModelProto      opset_import 8 (domain 1, version 2), graph 7
 *   GraphProto      node 1, initializer 5, input 11, output 12
 *   NodeProto       input 1, output 2, name 3, op_type 4, attribute 5, domain 7
 *   AttributeProto  name 1, f 2, i 3, s 4, t 5, floats 7, ints 8
 *   TensorProto     dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9, double_data 10,
 *                   data_location 14 (external data is refused)
 *   ValueInfoProto  name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1, dim_param 2
 * Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32; unknown fields are skipped, as protobuf requires.
 * Every problem is a one-line UserError naming the file.
 */
import { UserError } from '../util/errors.js';

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

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, readonly file: string, start: number, readonly end: number) { this.pos = start; }
  fail(what: string): never {
    throw new UserError(`${this.file}: not a readable ONNX model (${what} at byte ${this.pos}); export it with torch.onnx.export`);
  }
  get done(): boolean { return this.pos >= this.end; }
  /** A varint as a signed 64-bit number (a negative int64 takes ten bytes). */
  varint(): number {
    let lo = 0, hi = 0, shift = 0;
    for (let k = 0; ; k++) {
      if (this.pos >= this.end || k >= 10) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 28) lo += (b & 0x7f) * 2 ** shift;
      else if (shift === 28) { lo += (b & 0x0f) * 2 ** 28; hi += (b & 0x7f) >> 4; }
      else hi += (b & 0x7f) * 2 ** (shift - 32);
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    hi %= 2 ** 32;
    return hi >= 2 ** 31 ? (hi - 2 ** 32) * 2 ** 32 + lo : hi * 2 ** 32 + lo;
  }
  bytes(): Uint8Array {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) this.fail('truncated field');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  sub(): Reader {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) this.fail('truncated message');
    const r = new Reader(this.buf, this.file, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
  string(): string { return new TextDecoder().decode(this.bytes()); }
  fixed(n: 4 | 8): DataView {
    if (this.pos + n > this.end) this.fail('truncated fixed-width field');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }
  float(): number { return this.fixed(4).getFloat32(0, true); }
  double(): number { return this.fixed(8).getFloat64(0, true); }
  /** The next field's (number, wire type). */
  tag(): [number, number] {
    const t = this.varint();
    if (t <= 0) this.fail('bad field tag');
    return [Math.floor(t / 8), t % 8];
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.fixed(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.fixed(4);
    else this.fail(`unsupported wire type ${wire}`);
  }
  /** A repeated scalar field, packed (wire type 2) or one value per tag. */
  repeated(wire: number, one: () => number, into: number[]): void {
    if (wire !== 2) { into.push(one()); return; }
    const r = this.sub();
    const outer = this.pos;
    this.pos = r.pos;
    while (this.pos < r.end) into.push(one());
    this.pos = outer;
  }
}

function fields(r: Reader, on: (field: number, wire: number) => boolean): void {
  while (!r.done) {
    const [field, wire] = r.tag();
    if (!on(field, wire)) r.skip(wire);
  }
}

function readTensor(r: Reader): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, values: new Float64Array(0) };
  const listed: number[] = [];
  let raw: Uint8Array | null = null;
  let external = false;
  fields(r, (f, w) => {
    if (f === 1) r.repeated(w, () => r.varint(), t.dims);
    else if (f === 2) t.dataType = r.varint();
    else if (f === 4) r.repeated(w, () => r.float(), listed);
    else if (f === 5 || f === 7) r.repeated(w, () => r.varint(), listed);
    else if (f === 8) t.name = r.string();
    else if (f === 9) raw = r.bytes();
    else if (f === 10) r.repeated(w, () => r.double(), listed);
    else if (f === 14) external = r.varint() === 1;
    else return false;
    return true;
  });
  if (external) throw new UserError(`${r.file}: tensor ${t.name} is stored in an external data file; export the model with its weights inside (a model under 2 GB)`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (raw !== null) {
    const b: Uint8Array = raw;
    const width = t.dataType === 1 || t.dataType === 6 ? 4 : t.dataType === 7 || t.dataType === 11 ? 8 : t.dataType === 9 ? 1 : 0;
    if (width === 0) throw new UserError(`${r.file}: tensor ${t.name || '(unnamed)'} has data type ${t.dataType} (supported: float32, float64, int32, int64, bool)`);
    if (b.length !== count * width) throw new UserError(`${r.file}: tensor ${t.name} holds ${b.length} bytes, its shape [${t.dims.join(', ')}] needs ${count * width}`);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    t.values = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const o = i * width;
      t.values[i] = t.dataType === 1 ? v.getFloat32(o, true) : t.dataType === 11 ? v.getFloat64(o, true)
        : t.dataType === 6 ? v.getInt32(o, true) : t.dataType === 9 ? v.getUint8(o) : Number(v.getBigInt64(o, true));
    }
  } else {
    if (listed.length !== count) throw new UserError(`${r.file}: tensor ${t.name} holds ${listed.length} values, its shape [${t.dims.join(', ')}] needs ${count}`);
    t.values = Float64Array.from(listed);
  }
  return t;
}

function readAttribute(r: Reader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', floats: [], ints: [] };
  fields(r, (f, w) => {
    if (f === 1) a.name = r.string();
    else if (f === 2) a.f = r.float();
    else if (f === 3) a.i = r.varint();
    else if (f === 4) a.s = r.string();
    else if (f === 5) a.t = readTensor(r.sub());
    else if (f === 7) r.repeated(w, () => r.float(), a.floats);
    else if (f === 8) r.repeated(w, () => r.varint(), a.ints);
    else return false;
    return true;
  });
  return a;
}

function readNode(r: Reader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  fields(r, (f) => {
    if (f === 1) n.inputs.push(r.string());
    else if (f === 2) n.outputs.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 5) { const a = readAttribute(r.sub()); n.attributes.set(a.name, a); }
    else if (f === 7) n.domain = r.string();
    else return false;
    return true;
  });
  return n;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, shape: null };
  fields(r, (f) => {
    if (f === 1) v.name = r.string();
    else if (f === 2) {
      const type = r.sub();
      fields(type, (tf) => {
        if (tf !== 1) return false;
        const tensor = type.sub();
        fields(tensor, (ef) => {
          if (ef === 1) v.elemType = tensor.varint();
          else if (ef === 2) {
            const shape = tensor.sub();
            v.shape = [];
            fields(shape, (sf) => {
              if (sf !== 1) return false;
              const dim = shape.sub();
              let d: number | string | null = null;
              fields(dim, (df) => {
                if (df === 1) d = dim.varint();
                else if (df === 2) d = dim.string();
                else return false;
                return true;
              });
              v.shape!.push(d);
              return true;
            });
          } else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return v;
}

function readGraph(r: Reader): OnnxGraph {
  const g: OnnxGraph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  fields(r, (f) => {
    if (f === 1) g.nodes.push(readNode(r.sub()));
    else if (f === 5) { const t = readTensor(r.sub()); g.initializers.set(t.name, t); }
    else if (f === 11) g.inputs.push(readValueInfo(r.sub()));
    else if (f === 12) g.outputs.push(readValueInfo(r.sub()));
    else return false;
    return true;
  });
  return g;
}

/** Reads an ONNX ModelProto; `file` names it in errors. */
export function parseOnnx(bytes: Uint8Array, file: string): OnnxModel {
  const r = new Reader(bytes, file, 0, bytes.length);
  const opsets = new Map<string, number>();
  let graph = null as OnnxGraph | null;
  if (bytes.length === 0) r.fail('empty file');
  fields(r, (f, w) => {
    if (f === 8 && w === 2) {
      const o = r.sub();
      let domain = '', version = 0;
      fields(o, (of) => {
        if (of === 1) domain = o.string();
        else if (of === 2) version = o.varint();
        else return false;
        return true;
      });
      opsets.set(domain === 'ai.onnx' ? '' : domain, version);
    } else if (f === 7 && w === 2) graph = readGraph(r.sub());
    else return false;
    return true;
  });
  if (graph === null) return r.fail('no graph');
  return { opsets, graph };
}
