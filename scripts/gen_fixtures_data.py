#!/usr/bin/python3
"""Users' data files written by numpy, good and bad, for the `--data FILE` readers.

Run with Debian's numpy:  /usr/bin/python3 scripts/gen_fixtures_data.py
Writes test/fixtures/data/: .npz archives (np.savez stores, np.savez_compressed deflates), a folder of .npy pairs,
CSV files, PNG class folders (encoded here with zlib: Debian's python3 has no PIL), a set of bad files, and
expected.json holding what numpy says each good file contains (shape, split sizes, classes, the first values and
the float64 sum of each split's inputs in (n, c, h, w) order, and the labels).
"""
import io
import json
import os
import shutil
import struct
import zlib

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'data')
rng = np.random.default_rng(20240415)


def labels(n, k):
    # every class present in train, in a shuffled order
    return rng.permutation(np.arange(n) % k)


def summary(xs, ys, layout='nchw'):
    out = {}
    for split in xs:
        x = np.asarray(xs[split])
        if x.ndim == 4 and layout == 'nhwc':
            x = x.transpose(0, 3, 1, 2)
        x = np.ascontiguousarray(x).astype(np.float32).astype(np.float64)
        out[split] = {'n': int(x.shape[0]), 'first': x.reshape(-1)[:8].tolist(), 'sum': float(x.sum()),
                      'labels': [int(v) for v in np.asarray(ys[split]).reshape(-1)]}
    return out


def png(path, img):
    """A PNG (8-bit grey or RGB, filter 0 on every row) from an (h, w) or (h, w, 3) uint8 array."""
    h, w = img.shape[:2]
    colour = 2 if img.ndim == 3 else 0
    raw = b''.join(b'\x00' + img[y].tobytes() for y in range(h))
    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, colour, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    expected = {}

    # float32 NCHW, int64 labels, stored (np.savez)
    x = {'train': rng.standard_normal((12, 2, 3, 4)).astype(np.float32), 'test': rng.standard_normal((5, 2, 3, 4)).astype(np.float32)}
    y = {'train': labels(12, 3).astype(np.int64), 'test': rng.integers(0, 3, 5).astype(np.int64)}
    np.savez(os.path.join(OUT, 'f32-nchw.npz'), x_train=x['train'], y_train=y['train'], x_test=x['test'], y_test=y['test'])
    expected['f32-nchw.npz'] = {'shape': [2, 3, 4], 'classes': 3, 'layout': 'nchw', 'splits': summary(x, y)}

    # uint8 NHWC (Keras), uint8 labels, with a validation split, deflated (np.savez_compressed)
    x = {s: rng.integers(0, 256, (n, 4, 5, 3)).astype(np.uint8) for s, n in (('train', 10), ('test', 4), ('val', 3))}
    y = {'train': labels(10, 4).astype(np.uint8), 'test': rng.integers(0, 4, 4).astype(np.uint8), 'val': rng.integers(0, 4, 3).astype(np.uint8)}
    np.savez_compressed(os.path.join(OUT, 'u8-nhwc.npz'), x_train=x['train'], y_train=y['train'], x_test=x['test'], y_test=y['test'], x_val=x['val'], y_val=y['val'])
    expected['u8-nhwc.npz'] = {'shape': [3, 4, 5], 'classes': 4, 'layout': 'nhwc', 'splits': summary(x, y, 'nhwc')}

    # float64 feature vectors, labels as float64 holding integers, (n, 1) labels
    x = {'train': rng.standard_normal((9, 6)), 'test': rng.standard_normal((3, 6))}
    y = {'train': labels(9, 2).astype(np.float64).reshape(9, 1), 'test': np.array([1.0, 0.0, 1.0]).reshape(3, 1)}
    np.savez_compressed(os.path.join(OUT, 'f64-features.npz'), x_train=x['train'], y_train=y['train'], x_test=x['test'], y_test=y['test'])
    expected['f64-features.npz'] = {'shape': [1, 1, 6], 'classes': 2, 'layout': 'nchw', 'splits': summary(x, y)}

    # .npy pairs: int64 (n, h, w) images, int32 labels
    d = os.path.join(OUT, 'npy-pairs')
    os.makedirs(d)
    x = {'train': rng.integers(-5, 6, (8, 3, 3)).astype(np.int64), 'test': rng.integers(-5, 6, (2, 3, 3)).astype(np.int64)}
    y = {'train': labels(8, 5).astype(np.int32), 'test': np.array([4, 0], dtype=np.int32)}
    for s in x:
        np.save(os.path.join(d, f'x_{s}.npy'), x[s])
        np.save(os.path.join(d, f'y_{s}.npy'), y[s])
    expected['npy-pairs'] = {'shape': [1, 3, 3], 'classes': 5, 'layout': 'nchw', 'splits': summary(x, y)}

    # CSV: a folder of train.csv/test.csv with the label in the middle, and one file with a split column
    d = os.path.join(OUT, 'csv-pair')
    os.makedirs(d)
    x = {'train': np.round(rng.standard_normal((7, 3)), 3), 'test': np.round(rng.standard_normal((3, 3)), 3)}
    y = {'train': labels(7, 3), 'test': np.array([2, 1, 0])}
    for s in x:
        with open(os.path.join(d, f'{s}.csv'), 'w') as f:
            f.write('a,label,b,c\n')
            for row, lab in zip(x[s], y[s]):
                f.write(f'{row[0]!r},{lab},{row[1]!r},{row[2]!r}\n')
    expected['csv-pair'] = {'shape': [1, 1, 3], 'classes': 3, 'layout': 'nchw', 'splits': summary(x, y)}
    x = {'train': np.round(rng.standard_normal((6, 2)), 2), 'test': np.round(rng.standard_normal((2, 2)), 2)}
    y = {'train': labels(6, 2), 'test': np.array([1, 1])}
    with open(os.path.join(OUT, 'split-column.csv'), 'w') as f:
        f.write('f1,f2,target,split\r\n')
        # train and test rows interleaved, each split's own order kept
        tr, te = list(zip(x['train'], y['train'])), list(zip(x['test'], y['test']))
        rows = [('train', *tr[0]), ('test', *te[0]), *[('train', *r) for r in tr[1:4]], ('test', *te[1]), *[('train', *r) for r in tr[4:]]]
        for s, r, l in rows:
            f.write(f'{r[0]!r},{r[1]!r},{l},{s}\r\n')
    expected['split-column.csv'] = {'shape': [1, 1, 2], 'classes': 2, 'layout': 'nchw', 'labelColumn': 'target', 'splits': summary(x, y)}

    # PNG class folders (grey and RGB mixed; RGB read as 3 channels), already at the declared size 4x3
    d = os.path.join(OUT, 'images')
    names = ['cat', 'dog']
    x = {'train': [], 'test': []}
    y = {'train': [], 'test': []}
    for s, per in (('train', 2), ('test', 1)):
        for k, name in enumerate(names):
            os.makedirs(os.path.join(d, s, name))
            for i in range(per):
                img = rng.integers(0, 256, (4, 3, 3)).astype(np.uint8)
                if (i + k) % 2 == 1:
                    grey = rng.integers(0, 256, (4, 3)).astype(np.uint8)
                    png(os.path.join(d, s, name, f'{i}.png'), grey)
                    img = np.stack([grey] * 3, axis=2)
                else:
                    png(os.path.join(d, s, name, f'{i}.png'), img)
                x[s].append(img.transpose(2, 0, 1).astype(np.float64) / 255)
                y[s].append(k)
    expected['images'] = {'shape': [3, 4, 3], 'classes': 2, 'layout': 'nchw', 'imageSize': '4x3',
                          'splits': summary({s: np.stack(v) for s, v in x.items()}, y)}

    # ---- bad files -----------------------------------------------------------------------------------------
    b = os.path.join(OUT, 'bad')
    os.makedirs(b)
    xt, yt = rng.standard_normal((6, 4)).astype(np.float32), labels(6, 2).astype(np.int64)
    xs, ys = rng.standard_normal((2, 4)).astype(np.float32), np.array([0, 1], dtype=np.int64)

    def bad(name, compressed=False, **over):
        arrays = {'x_train': xt, 'y_train': yt, 'x_test': xs, 'y_test': ys}
        arrays.update(over)
        arrays = {k: v for k, v in arrays.items() if v is not None}
        (np.savez_compressed if compressed else np.savez)(os.path.join(b, name), **arrays)

    bad('shape-mismatch.npz', y_train=yt[:5])
    nan = xt.copy(); nan[3, 2] = np.nan
    bad('nan.npz', x_train=nan)
    inf = xs.copy(); inf[1, 0] = -np.inf
    bad('inf.npz', compressed=True, x_test=inf)
    bad('overflow.npz', x_test=np.array([[1e39, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float64))
    bad('label-fraction.npz', y_train=np.array([0, 1, 0.5, 1, 0, 1]))
    bad('label-negative.npz', y_train=np.array([0, 1, -1, 1, 0, 1], dtype=np.int64))
    bad('label-out-of-range.npz', y_test=np.array([0, 2], dtype=np.int64))
    bad('empty-test.npz', x_test=np.zeros((0, 4), np.float32), y_test=np.zeros((0,), np.int64))
    bad('float16.npz', x_train=xt.astype(np.float16))
    bad('missing-test.npz', x_test=None, y_test=None)
    bad('one-hot.npz', y_train=np.eye(2, dtype=np.float32)[yt])
    bad('sample-shape.npz', x_test=np.zeros((2, 5), np.float32))
    bad('fortran.npz', x_train=np.asfortranarray(rng.standard_normal((6, 4, 3)).astype(np.float32)))
    buf = io.BytesIO()
    np.savez(buf, x_train=xt, y_train=yt, x_test=xs, y_test=ys)
    whole = buf.getvalue()
    with open(os.path.join(b, 'truncated.npz'), 'wb') as f:
        f.write(whole[: len(whole) // 2])
    d = os.path.join(b, 'truncated-npy')
    os.makedirs(d)
    for k, v in (('x_train', xt), ('y_train', yt), ('x_test', xs), ('y_test', ys)):
        np.save(os.path.join(d, f'{k}.npy'), v)
    with open(os.path.join(d, 'x_train.npy'), 'rb') as f:
        data = f.read()
    with open(os.path.join(d, 'x_train.npy'), 'wb') as f:
        f.write(data[:-10])
    with open(os.path.join(b, 'ragged.csv'), 'w') as f:
        f.write('a,b,label,split\n1,2,0,train\n3,1,train\n')
    with open(os.path.join(b, 'text-cell.csv'), 'w') as f:
        f.write('a,b,label,split\n1,2,0,train\n3,x,1,train\n1,1,1,test\n')
    with open(os.path.join(b, 'no-split.csv'), 'w') as f:
        f.write('a,b,label\n1,2,0\n3,4,1\n')

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
