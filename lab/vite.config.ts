/**
 * Builds the lab (lab/ → dist/lab/): one page, its two workers and the WebAssembly files as hashed assets, plus
 * digits.bin, a subset of the embedded MNIST digits packed here at build time (lab/digits-asset.ts) so the page
 * never parses the `mnist` package's JSON. Relative asset paths (`base: './'`): the folder works from any static
 * host and any sub-path.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { decodeEmbeddedMnist } from '../src/core/data/dataset.js';
import { DIGITS_FILE, LAB_TEST_DIGITS, LAB_TRAIN_DIGITS, packDigits } from './digits-asset.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Emits digits.bin: the first LAB_TRAIN_DIGITS / LAB_TEST_DIGITS digits of the embedded MNIST splits. */
function digitsAsset(): Plugin {
  return {
    name: 'momentum-lab-digits',
    generateBundle() {
      const dir = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
      const files = Array.from({ length: 10 }, (_, d) => ({ file: `${d}.json`, text: readFileSync(join(dir, 'src', 'digits', `${d}.json`), 'utf8') }));
      const { train, test } = decodeEmbeddedMnist(files);
      this.emitFile({ type: 'asset', fileName: DIGITS_FILE, source: packDigits(train, test, LAB_TRAIN_DIGITS, LAB_TEST_DIGITS) });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [digitsAsset()],
  worker: { format: 'es' },
  build: { outDir: join(here, '..', 'dist', 'lab'), emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 2000 },
  logLevel: 'warn',
});
