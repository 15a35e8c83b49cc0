import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/node/package-root.js';
import { installNodeHost } from '../src/node/host.js';

// Tests run core code in this process: give it Node's kernels, normals WebAssembly and simulator threads.
installNodeHost();

/** The repository root (the folder holding package.json), from either test/ (tsx) or dist/test/ (npm test). */
export const repoRoot = packageRoot;

export function readFixture<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', ...parts), 'utf8')) as T;
}

/** Largest |a−b| over two equally shaped nested arrays. */
export function maxAbsDiff(a: number[][], b: number[][]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const bi = b[i]!;
    if (ai.length !== bi.length) return Infinity;
    for (let j = 0; j < ai.length; j++) m = Math.max(m, Math.abs(ai[j]! - bi[j]!));
  }
  return m;
}

/** Runs `f` with this process's stderr captured: its result and the non-empty lines written meanwhile. */
export async function withStderrLines<T>(f: () => T | Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await f(), lines };
  } finally {
    process.stderr.write = write;
  }
}
