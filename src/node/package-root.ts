import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The momentum-lab checkout: the nearest folder above this file holding package.json. Works alike from src/ (tsx)
 * and dist/src/ (built), so build outputs (build/*.wasm) and fixtures are found from either.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`momentum-lab: package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
