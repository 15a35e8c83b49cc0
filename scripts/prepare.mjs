// npm's `prepare` step: runs `npm run build` unless dist/ was built from exactly these sources. npm runs `prepare`
// at `npm install` and again on the first `npx momentum-lab` in a checkout (npm exec installs the project into its
// own cache from this folder); the second build would be a silent minute of the same work.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const INPUT_DIRS = ['src', 'assembly', 'lab', 'native', 'test', 'bench', 'scripts', 'examples'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];
/** Folders inside the inputs that the build itself writes (node-gyp's output). */
const SKIP = new Set(['native/build']);
const STAMP = join(root, 'dist', '.build-inputs');
const OUTPUTS = ['dist/src/cli/main.js', 'dist/lab/index.html', 'build/kernels.wasm', 'build/normals.wasm', 'build/gemm-f64.wasm'];

function files(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (SKIP.has(rel)) continue;
    if (statSync(join(root, rel)).isDirectory()) out.push(...files(rel));
    else out.push(rel);
  }
  return out;
}

function inputsHash() {
  const h = createHash('sha256');
  const all = [...INPUT_DIRS.filter((d) => existsSync(join(root, d))).flatMap(files), ...INPUT_FILES.filter((f) => existsSync(join(root, f)))];
  for (const f of all) h.update(`${f}\0`).update(readFileSync(join(root, f))).update('\0');
  return h.digest('hex');
}

const hash = inputsHash();
const built = OUTPUTS.every((f) => existsSync(join(root, f))) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash;
if (built) {
  process.stdout.write('momentum-lab: dist/ is up to date with the sources; build skipped\n');
} else {
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(STAMP, hash);
}
