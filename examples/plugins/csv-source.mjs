// A dataset source in one file: images stored as CSV, one "label,pixel0,…,pixelN" line per image (pixels 0–255),
// in train.csv and test.csv of the folder given by --data-dir.
//   npx momentum-lab train --plugin examples/plugins/csv-source.mjs --dataset csv-digits --data-dir DIR --model mlp
// Outside this repository import from 'momentum-lab/dist/src/core/index.js' instead.
import { UserError, registerDatasetSource } from '../../dist/src/core/index.js';

const SIDE = 8; // 8×8 grey images

function decodeCsv(text, file) {
  const lines = text.trim().split('\n');
  const images = new Uint8Array(lines.length * SIDE * SIDE), labels = new Uint8Array(lines.length);
  lines.forEach((line, i) => {
    const v = line.split(',').map(Number);
    if (v.length !== 1 + SIDE * SIDE || v.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
      throw new UserError(`${file}:${i + 1}: expected a label and ${SIDE * SIDE} pixels 0–255`);
    }
    labels[i] = v[0];
    images.set(v.slice(1), i * SIDE * SIDE);
  });
  return { images, labels, n: lines.length };
}

registerDatasetSource({
  name: 'csv-digits',
  shape: [1, SIDE, SIDE],
  classes: 10,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  hint: 'write train.csv and test.csv into a folder and pass it with --data-dir',
  wants: 'train.csv and test.csv',
  systemDirs: [],
  remote: [],
  findIn(dir, host) {
    const files = [host.join(dir, 'train.csv'), host.join(dir, 'test.csv')];
    return files.every((f) => host.exists(f)) ? { name: 'csv-digits', format: 'csv', source: dir, files } : null;
  },
  decode(loc, host) {
    const [train, test] = loc.files.map((f) => decodeCsv(new TextDecoder().decode(host.read(f, this.hint)), f));
    return { train, test };
  },
});
