import { readFileSync } from 'node:fs';
import { UserError } from '../core/util/errors.js';
import { checkJsonDepth } from '../core/util/limits.js';

/** Reads and parses a JSON file, naming the file in any error. */
export function readJsonFile(path: string, what = 'file'): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
  checkJsonDepth(value, `${what} ${path}`);
  return value;
}
