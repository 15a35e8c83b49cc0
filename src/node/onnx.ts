/** Reads the ONNX files that `--model FILE.onnx` names, for the core's 'onnx' model family. */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/util/errors.js';

export function readOnnxFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read the ONNX model (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? String(e)})`);
  }
}
