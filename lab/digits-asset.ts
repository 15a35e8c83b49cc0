/**
 * digits.bin, the lab's training data: the first digits of the embedded MNIST train and test splits
 * (`decodeEmbeddedMnist`, the same split and order as `--data mnist` without a data folder), as bytes:
 *   "MLD1" | u32 nTrain | u32 nTest (little-endian) | train pixels (nTrain·784) | train labels (nTrain)
 *   | test pixels (nTest·784) | test labels (nTest)
 * Pixels are the stored bytes 0…255, so `toSplit` gives the very floats the Node loader gives.
 */
import { toSplit, type Dataset, type RawSplit } from '../src/core/data/dataset.js';
import { UserError } from '../src/core/util/errors.js';

export const DIGITS_FILE = 'digits.bin';
export const LAB_TRAIN_DIGITS = 2000;
export const LAB_TEST_DIGITS = 500;
const MAGIC = 0x31444c4d; // "MLD1" read as a little-endian u32
const P = 784;

export function packDigits(train: RawSplit, test: RawSplit, nTrain: number, nTest: number): Uint8Array {
  const out = new Uint8Array(12 + (nTrain + nTest) * (P + 1));
  const head = new DataView(out.buffer);
  head.setUint32(0, MAGIC, true);
  head.setUint32(4, nTrain, true);
  head.setUint32(8, nTest, true);
  let at = 12;
  for (const [s, n] of [[train, nTrain], [test, nTest]] as const) {
    out.set(s.images.subarray(0, n * P), at);
    out.set(s.labels.subarray(0, n), at + n * P);
    at += n * (P + 1);
  }
  return out;
}

export function unpackDigits(bytes: Uint8Array): Dataset {
  const head = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || head.getUint32(0, true) !== MAGIC) throw new UserError(`${DIGITS_FILE}: not a packed digits file (rebuild with \`npm run build:lab\`)`);
  const nTrain = head.getUint32(4, true), nTest = head.getUint32(8, true);
  if (bytes.length !== 12 + (nTrain + nTest) * (P + 1)) throw new UserError(`${DIGITS_FILE}: truncated (rebuild with \`npm run build:lab\`)`);
  let at = 12;
  const split = (n: number): RawSplit => {
    const images = bytes.subarray(at, at + n * P), labels = bytes.subarray(at + n * P, at + n * (P + 1));
    at += n * (P + 1);
    return { images, labels, n };
  };
  const train = split(nTrain), test = split(nTest);
  return { name: `mnist (embedded, first ${nTrain}/${nTest})`, source: DIGITS_FILE, shape: [1, 28, 28], classes: 10, train: toSplit(train), test: toSplit(test) };
}
