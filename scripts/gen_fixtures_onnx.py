#!/usr/bin/python3
"""Writes test/fixtures/onnx/: small PyTorch models exported with torch.onnx.export, and PyTorch's reference
numbers on fixed inputs, so test/onnx checks the engine's forward, gradients and three SGDM steps against them.

Run with Debian's /usr/bin/python3 (python3-torch, python3-onnx): /usr/bin/python3 scripts/gen_fixtures_onnx.py
With --transformer-ops DIR it writes no fixtures: it exports an nn.TransformerEncoderLayer classifier to DIR/tel.onnx
(opset 17; opset 13 too, as tel13.onnx) with a data file DIR/tel_data.npz, and prints the op types of each graph
(docs/onnx.md, "Transformers from PyTorch").
For each model NAME it writes NAME.onnx and NAME.json:
  input_shape  one sample's shape; x, y: a fixed batch (float32 values, int labels); classes
  logits       the eval-mode forward output on x (float64 run of the float32 weights)
  loss         train-mode mean cross-entropy on (x, y); grads: its gradient per ONNX initializer, in the
               initializer's own layout (a MatMul weight is W^T of the nn.Linear weight)
  loss_after   eval-mode loss on (x, y) after 3 full-batch SGDM steps (lr 0.05, momentum 0.9, PyTorch form)
"""
import collections, copy, json, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'onnx')
LR, BETA, STEPS = 0.05, 0.9, 3


class Residual(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x):
        return torch.relu(x + self.fc2(torch.relu(self.fc1(x))))


class ResNetBlock(nn.Module):
    def __init__(self, blocks=1):
        super().__init__()
        self.fc_in = nn.Linear(6, 8)
        self.blocks = nn.Sequential(*[Residual(8) for _ in range(blocks)])
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.blocks(torch.tanh(self.fc_in(x))))


class PlainResidual(nn.Module):
    """x + fc(x): the sum feeds the next block twice, and its Linear keeps it for the weight gradient."""
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, x):
        return x + self.fc(x)


class LnGelu(nn.Module):
    """Tokens [T, D] → LayerNorm → Linear → GELU → Linear, residual, mean over tokens… flattened to a head."""
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(4)
        self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 4)
        self.act = nn.GELU()
        self.head = nn.Linear(12, 3)

    def forward(self, x):
        h = x + self.fc2(self.act(self.fc1(self.ln(x))))
        return self.head(torch.flatten(torch.sigmoid(h), 1))


class Transpose(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return x.transpose(self.a, self.b)


class ConvView(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(1, 2, 3), nn.Linear(18, 3)

    def forward(self, x):
        h = torch.relu(self.conv(x))
        return self.fc(h.view(h.size(0), -1))


class Standardize(nn.Module):
    """(x - mean_c) / std_c per channel inside the model, as torchvision's Normalize computes it."""
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).reshape(-1, 1, 1))
        self.register_buffer('std', torch.tensor(std).reshape(-1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def models():
    torch.manual_seed(0)
    # (name, module, one sample's shape, opset, constant folding). The exporter fuses an eval-mode BatchNorm2d that
    # directly follows a Conv into the Conv, which then trains differently, so here a ReLU sits between them.
    yield 'mlp', nn.Sequential(nn.Flatten(), nn.Linear(12, 10), nn.ReLU(), nn.Linear(10, 3), nn.LogSoftmax(1)), [1, 3, 4], 13, True
    yield 'cnn', nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, stride=2, padding=1),
                               nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4, 3)), [2, 8, 8], 13, True
    yield 'residual', ResNetBlock(), [6], 14, True
    yield 'batchnorm', nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.BatchNorm2d(3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                     nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Sigmoid(), nn.Linear(6, 3), nn.Softmax(1)), [1, 6, 6], 15, False
    yield 'ln_gelu', LnGelu(), [3, 4], 17, True
    yield 'ln_gelu_opset13', LnGelu(), [3, 4], 13, True  # LayerNorm decomposed into ReduceMean, Sub, Pow, …
    yield 'cnn_view', ConvView(), [1, 5, 5], 13, True  # x.view(x.size(0), -1): Shape, Gather, Unsqueeze, Concat, Reshape
    yield 'transpose', nn.Sequential(Transpose(1, 3), nn.Flatten(), nn.Linear(24, 3)), [2, 3, 4], 13, True
    yield 'residual_stack', nn.Sequential(nn.Linear(6, 8), PlainResidual(8), PlainResidual(8), nn.Linear(8, 3)), [6], 13, True
    yield 'standardized', nn.Sequential(Standardize([0.5, -1.0], [2.0, 0.25]), nn.Flatten(), nn.Linear(18, 3)), [2, 3, 3], 13, True  # Sub, Div at the input


def logits_of(model, x):
    # A final (Log)Softmax is folded into the cross-entropy loss, as the engine does; one forward per call, so that
    # BatchNorm's running statistics move once.
    if isinstance(model, nn.Sequential) and isinstance(model[-1], (nn.Softmax, nn.LogSoftmax)):
        return model[:-1](x)
    return model(x)


def main():
    os.makedirs(OUT, exist_ok=True)
    initial = {}
    for name, model, shape, opset, fold in models():
        g = torch.Generator().manual_seed(1)
        n = 8
        x = torch.randn([n] + shape, generator=g)
        y = torch.randint(0, 3, (n,), generator=g)
        with torch.no_grad():
            model.train()
            model(torch.randn([n] + shape, generator=g))  # BatchNorm running statistics other than 0 and 1
        path = os.path.join(OUT, name + '.onnx')
        model.eval()
        torch.onnx.export(model, x[:1], path, opset_version=opset, do_constant_folding=fold,
                          input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
        initial[name] = copy.deepcopy(model)
        proto = onnx.load(path)
        inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}

        m64 = model.double()
        x64 = x.double()
        with torch.no_grad():
            logits = logits_of(m64, x64)
        m64.train()
        loss = nn.functional.cross_entropy(logits_of(m64, x64), y)
        m64.zero_grad()
        loss.backward()
        grads = {}
        params = dict(m64.named_parameters())
        for iname, arr in inits.items():
            for pname, p in params.items():
                a = p.detach().numpy()
                if a.shape == arr.shape and np.array_equal(a.astype(np.float32), arr):
                    grads[iname] = p.grad.numpy().reshape(-1).tolist()
                    break
                if a.ndim == 2 and a.T.shape == arr.shape and np.array_equal(a.T.astype(np.float32), arr):
                    grads[iname] = p.grad.numpy().T.reshape(-1).tolist()
                    break
        opt = torch.optim.SGD(m64.parameters(), lr=LR, momentum=BETA)
        for _ in range(STEPS):
            opt.zero_grad()
            nn.functional.cross_entropy(logits_of(m64, x64), y).backward()
            opt.step()
        m64.eval()
        with torch.no_grad():
            loss_after = nn.functional.cross_entropy(logits_of(m64, x64), y).item()
        fixture = {
            'model': name + '.onnx', 'opset': opset, 'constant_folding': fold, 'input_shape': shape, 'classes': 3,
            'x': x.reshape(-1).tolist(), 'y': y.tolist(),
            'logits': logits.reshape(-1).tolist(), 'loss': loss.item(), 'grads': grads,
            'lr': LR, 'momentum': BETA, 'steps': STEPS, 'loss_after': loss_after,
            'ops': sorted({node.op_type for node in proto.graph.node}),
        }
        with open(os.path.join(OUT, name + '.json'), 'w') as f:
            json.dump(fixture, f)
        print(name, fixture['ops'], len(grads), 'of', len(inits), 'initializers have grads', os.path.getsize(path), 'bytes')

    # Graphs the engine refuses (test/onnx/bad-input.test.ts), and a data file for the CLI tests of mlp.onnx.
    torch.manual_seed(0)
    bad = {
        'bad_op': (nn.Sequential(nn.Flatten(), nn.Linear(12, 3), Abs()), [1, 3, 4], 13),
        'bad_opset': (nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), [1, 3, 4], 11),
        'bad_groups': (nn.Sequential(nn.Conv2d(2, 2, 3, groups=2), nn.Flatten(), nn.Linear(8, 3)), [2, 4, 4], 13),
        'bad_transpose': (nn.Sequential(Transpose(0, 1), nn.Flatten(), nn.Linear(12, 3)), [1, 3, 4], 13),
        'bad_softmax_mid': (nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.Softmax(1), nn.Linear(4, 3)), [1, 3, 4], 13),
        'bad_shift': (nn.Sequential(nn.Flatten(), Shift(), nn.Linear(12, 3)), [1, 3, 4], 13),
    }
    for name, (model, shape, opset) in bad.items():
        model.eval()
        torch.onnx.export(model, torch.zeros([1] + shape), os.path.join(OUT, name + '.onnx'), opset_version=opset,
                          input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'batch'}})
    # Dropout survives only a training-mode export (with its ratio as an input); its eval-mode logits are the Linears'.
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 3))
    torch.onnx.export(model, torch.zeros([1, 1, 3, 4]), os.path.join(OUT, 'dropout.onnx'), opset_version=13, training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'batch'}})
    x = torch.randn([4, 1, 3, 4], generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        logits = model.double().eval()(x.double())
    with open(os.path.join(OUT, 'dropout.json'), 'w') as f:
        json.dump({'model': 'dropout.onnx', 'input_shape': [1, 3, 4], 'p': 0.25, 'x': x.reshape(-1).tolist(), 'logits': logits.reshape(-1).tolist(),
                   'ops': sorted({node.op_type for node in onnx.load(os.path.join(OUT, 'dropout.onnx')).graph.node})}, f)

    g = torch.Generator().manual_seed(2)
    xs = {k: torch.randn([n, 1, 3, 4], generator=g).numpy() for k, n in (('train', 24), ('test', 12))}
    ys = {'train': np.arange(24) % 3, 'test': np.arange(12) % 3}
    np.savez(os.path.join(OUT, 'mlp_data.npz'), x_train=xs['train'], y_train=ys['train'], x_test=xs['test'], y_test=ys['test'])
    # `eval --model mlp.onnx --data mlp_data.npz`: the exported weights' float32 test loss on the data as given.
    with torch.no_grad():
        initial_test_loss = nn.functional.cross_entropy(logits_of(initial['mlp'].float().eval(), torch.from_numpy(xs['test'])), torch.from_numpy(ys['test'])).item()
    # `train --model mlp.onnx --data mlp_data.npz --inputs raw --batch 24`: full-batch SGDM on the data as given, float32.
    model = initial['mlp'].float().train()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=BETA)
    x, y = torch.from_numpy(xs['train']), torch.from_numpy(ys['train'])
    for _ in range(STEPS):
        opt.zero_grad()
        nn.functional.cross_entropy(logits_of(model, x), y).backward()
        opt.step()
    with torch.no_grad():
        test_loss = nn.functional.cross_entropy(logits_of(model.eval(), torch.from_numpy(xs['test'])), torch.from_numpy(ys['test'])).item()
    with open(os.path.join(OUT, 'mlp_data.json'), 'w') as f:
        json.dump({'model': 'mlp.onnx', 'data': 'mlp_data.npz', 'batch': 24, 'lr': LR, 'momentum': BETA, 'steps': STEPS, 'test_loss': test_loss,
                   'initial_test_loss': initial_test_loss}, f)


class Abs(nn.Module):
    def forward(self, x):
        return torch.abs(x)


class Shift(nn.Module):
    def __init__(self):
        super().__init__()
        self.shift = nn.Parameter(torch.ones(12))

    def forward(self, x):
        return x + self.shift


class EncoderClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True, activation='gelu')
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        # The data's samples are [1, T, D] (a 3-D array reads as one channel of T×D), the layer's [T, D].
        return self.head(self.enc(x.view(x.size(0), 4, 8)).mean(1))


def transformer_ops(out):
    torch.manual_seed(0)
    model = EncoderClassifier().eval()
    for opset, name in ((13, 'tel13.onnx'), (17, 'tel.onnx')):
        path = os.path.join(out, name)
        torch.onnx.export(model, torch.randn(1, 1, 4, 8), path, opset_version=opset, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'batch'}})
        ops = collections.Counter(node.op_type for node in onnx.load(path).graph.node)
        print(name, 'opset', opset, sum(ops.values()), 'nodes', dict(ops.most_common()))
    g = torch.Generator().manual_seed(4)
    np.savez(os.path.join(out, 'tel_data.npz'), x_train=torch.randn([6, 4, 8], generator=g).numpy(), y_train=np.arange(6) % 3,
             x_test=torch.randn([3, 4, 8], generator=g).numpy(), y_test=np.arange(3) % 3)


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--transformer-ops':
        transformer_ops(sys.argv[2])
    else:
        main()
