/**
 * The 'onnx' model family: `--model FILE.onnx` (or `model: FILE.onnx`, or `{ kind: 'onnx', file }`) builds the
 * network of a file written by `torch.onnx.export`, starting from the file's weights. The core reads no files: the
 * host installs a reader (the Node adapter reads the file system; a browser can serve uploaded bytes).
 */
import { UserError, check } from '../util/errors.js';
import { registerModelFamily, type ModelSpecBase } from '../nn/registry.js';
import { graphToNetwork } from './graph-to-model.js';
import { parseOnnx } from './proto.js';

export interface OnnxSpec extends ModelSpecBase {
  kind: 'onnx';
  /** The file, as the config gives it (the host's reader resolves it). */
  file: string;
  /** Whether the graph's Dropout nodes drop in training (false: they pass values through). */
  dropout: boolean;
}

let readFile: ((file: string) => Uint8Array) | null = null;

/** Installs how the 'onnx' family gets a file's bytes (the Node host reads the file system). */
export function useOnnxFileReader(read: (file: string) => Uint8Array): void {
  readFile = read;
}

export const onnxFamily = registerModelFamily<OnnxSpec>({
  kind: 'onnx',
  names: ['FILE.onnx'],
  fromName: (name) => (/\.onnx$/i.test(name) ? { kind: 'onnx', file: name } : null),
  parse(o, field) {
    const file = o.file;
    check(typeof file === 'string' && /\.onnx$/i.test(file), `${field}.file`, `must name an .onnx file, got ${JSON.stringify(file)}`);
    const dropout = o.dropout ?? true;
    check(typeof dropout === 'boolean', `${field}.dropout`, 'must be true or false');
    return { kind: 'onnx', file, dropout };
  },
  build(spec, inShape, classes, ctx) {
    if (readFile === null) throw new UserError(`${spec.file}: this host cannot read ONNX files`, 'model');
    return [graphToNetwork(parseOnnx(readFile(spec.file), spec.file), spec.file, inShape, classes, ctx, spec.dropout).net];
  },
  hvpTwin: (spec) => ({ ...spec, dropout: false }),
  label: (raw) => (typeof raw.file === 'string' ? raw.file : null),
});
