#!/usr/bin/python3
"""PyTorch reference values for the engine's layers and models (float64).

Run with Debian's torch:  /usr/bin/python3 scripts/gen_fixtures_engine.py
Writes test/fixtures/engine/torch_layers.json: for every case the input x, the parameters (flattened in PyTorch's
layout, which is the engine's), the upstream gradient r, and torch's output y = f(x), dx and parameter gradients of
L = sum(r * y). Model cases use the mean cross-entropy of integer labels instead of r. BatchNorm cases also record
running statistics after the forward pass. Parameters are drawn N(0, 0.5^2) so that norm affine weights are not 1.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(20240415)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'engine', 'torch_layers.json')


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def randomize(params):
    with torch.no_grad():
        for p in params:
            p.copy_(torch.randn_like(p) * 0.5)


class Attention(nn.Module):
    """The engine's SelfAttention core: input [n, T, 3D] (q | k | v), heads H, optional causal mask."""

    def __init__(self, heads, causal):
        super().__init__()
        self.heads, self.causal = heads, causal

    def forward(self, qkv):
        n, T, D3 = qkv.shape
        D = D3 // 3
        hs = D // self.heads
        q, k, v = qkv.split(D, dim=2)
        q = q.reshape(n, T, self.heads, hs).transpose(1, 2)
        k = k.reshape(n, T, self.heads, hs).transpose(1, 2)
        v = v.reshape(n, T, self.heads, hs).transpose(1, 2)
        att = q @ k.transpose(-2, -1) / math.sqrt(hs)
        if self.causal:
            mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
            att = att.masked_fill(~mask, float('-inf'))
        att = F.softmax(att, dim=-1)
        return (att @ v).transpose(1, 2).reshape(n, T, D)


class Patchify(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        n, C, H, W = x.shape
        p = self.p
        return x.reshape(n, C, H // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5).reshape(n, (H // p) * (W // p), C * p * p)


class PosEmbed(nn.Module):
    def __init__(self, T, D):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(T, D))

    def forward(self, x):
        return x + self.weight


class Residual(nn.Module):
    def __init__(self, main, shortcut=None):
        super().__init__()
        self.main, self.shortcut = main, shortcut

    def forward(self, x):
        return self.main(x) + (x if self.shortcut is None else self.shortcut(x))


class TokenMean(nn.Module):
    def forward(self, x):
        return x.mean(dim=1)


def named_params(module, names):
    """Parameters in the engine's declaration order, with the engine's names."""
    ps = [p for p in module.parameters()]
    assert len(ps) == len(names), (len(ps), names)
    return list(zip(names, ps))


def layer_case(name, module, names, in_shape, n, x=None, train=True, bn=None):
    randomize(module.parameters())
    if bn is not None:
        with torch.no_grad():
            bn.running_mean.copy_(torch.randn_like(bn.running_mean))
            bn.running_var.copy_(torch.rand_like(bn.running_var) + 0.5)
    module.train(train)
    if x is None:
        x = torch.randn(n, *in_shape)
    x = x.clone().requires_grad_(x.dtype.is_floating_point)
    y = module(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    case = {
        'name': name, 'inShape': list(in_shape), 'n': n, 'train': train, 'x': flat(x), 'r': flat(r), 'y': flat(y),
        'dx': flat(x.grad) if x.grad is not None else None,
        'params': {k: flat(p) for k, p in named_params(module, names)},
        'grads': {k: flat(p.grad) for k, p in named_params(module, names)},
    }
    if bn is not None:
        case['runningInit'] = None
    return case


def bn_case(name, C, spatial, n, train):
    shape = [C] + spatial
    bn = nn.BatchNorm2d(C) if spatial else nn.BatchNorm1d(C)
    randomize(bn.parameters())
    rm0 = torch.randn(C)
    rv0 = torch.rand(C) + 0.5
    with torch.no_grad():
        bn.running_mean.copy_(rm0)
        bn.running_var.copy_(rv0)
    bn.train(train)
    x = torch.randn(n, *shape, requires_grad=True)
    y = bn(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    return {
        'name': name, 'inShape': shape, 'n': n, 'train': train, 'x': flat(x), 'r': flat(r), 'y': flat(y), 'dx': flat(x.grad),
        'params': {'bn.weight': flat(bn.weight), 'bn.bias': flat(bn.bias)},
        'grads': {'bn.weight': flat(bn.weight.grad), 'bn.bias': flat(bn.bias.grad)},
        'runningMeanBefore': flat(rm0), 'runningVarBefore': flat(rv0),
        'runningMean': flat(bn.running_mean), 'runningVar': flat(bn.running_var),
    }


def model_case(name, spec, module, names, in_shape, n, classes, bns=()):
    randomize(module.parameters())
    module.train(True)
    x = torch.rand(n, *in_shape)
    labels = torch.randint(0, classes, (n,))
    logits = module(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    return {
        'name': name, 'spec': spec, 'inShape': list(in_shape), 'n': n, 'classes': classes, 'x': flat(x),
        'labels': [int(v) for v in labels.tolist()], 'loss': float(loss), 'logits': flat(logits),
        'params': {k: flat(p) for k, p in named_params(module, names)},
        'grads': {k: flat(p.grad) for k, p in named_params(module, names)},
        'running': {f'{b}.{s}': flat(getattr(m, 'running_' + s)) for b, m in bns for s in ('mean', 'var')},
    }


def main():
    layers = []
    layers.append(layer_case('linear', nn.Linear(5, 3), ['l.weight', 'l.bias'], [5], 4))
    layers.append(layer_case('linear_tokens_nobias', nn.Linear(5, 4, bias=False), ['l.weight'], [3, 5], 2))
    layers.append(layer_case('linear_relu', nn.Sequential(nn.Linear(6, 5), nn.ReLU()), ['l.weight', 'l.bias'], [6], 3))
    layers.append(layer_case('conv_3x3', nn.Conv2d(2, 3, 3), ['c.weight', 'c.bias'], [2, 6, 5], 2))
    layers.append(layer_case('conv_stride2_pad1_nobias', nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False), ['c.weight'], [2, 7, 7], 2))
    layers.append(layer_case('conv_1x1_stride2', nn.Conv2d(3, 2, 1, stride=2, bias=False), ['c.weight'], [3, 5, 5], 2))
    layers.append(layer_case('conv_relu_pad1', nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU()), ['c.weight', 'c.bias'], [2, 5, 5], 2))
    layers.append(layer_case('maxpool_2', nn.MaxPool2d(2), [], [2, 6, 6], 2))
    layers.append(layer_case('maxpool_3_stride2', nn.MaxPool2d(3, 2), [], [2, 7, 7], 2))
    layers.append(layer_case('avgpool_2', nn.AvgPool2d(2), [], [2, 6, 6], 2))
    layers.append(layer_case('global_avgpool', nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), [], [3, 4, 4], 2))
    layers.append(bn_case('batchnorm2d_train', 3, [4, 4], 3, True))
    layers.append(bn_case('batchnorm1d_train', 5, [], 4, True))
    layers.append(bn_case('batchnorm2d_eval', 3, [2, 2], 2, False))
    layers.append(layer_case('layernorm', nn.LayerNorm(6), ['ln.weight', 'ln.bias'], [3, 6], 2))
    layers.append(layer_case('relu', nn.ReLU(), [], [7], 3))
    layers.append(layer_case('gelu', nn.GELU(), [], [9], 3, x=torch.randn(3, 9) * 3))
    layers.append(layer_case('tanh', nn.Tanh(), [], [7], 3))
    emb = nn.Embedding(4, 5)
    layers.append(layer_case('embedding', emb, ['e.weight'], [3], 2, x=torch.tensor([[0, 3, 3], [1, 2, 0]])))
    layers.append(layer_case('attention_causal_2heads', Attention(2, True), [], [4, 12], 2))
    layers.append(layer_case('attention_full_1head', Attention(1, False), [], [3, 6], 2))
    layers.append(layer_case('patchify', Patchify(2), [], [2, 4, 6], 2))
    layers.append(layer_case('posembed', PosEmbed(4, 3), ['p.weight'], [4, 3], 2))
    layers.append(layer_case('tokenmean', TokenMean(), [], [4, 3], 2))
    layers.append(layer_case('residual_linear_tanh', Residual(nn.Sequential(nn.Linear(4, 4), nn.Tanh())), ['a.weight', 'a.bias'], [4], 3))

    # Losses: CE and MSE with their gradients.
    z = torch.randn(3, 4, requires_grad=True)
    labels = torch.tensor([1, 3, 0])
    ce = F.cross_entropy(z, labels)
    ce.backward()
    t = torch.randn(3, 4)
    z2 = z.detach().clone().requires_grad_(True)
    mse = F.mse_loss(z2, t)
    mse.backward()
    losses = {'logits': flat(z), 'labels': labels.tolist(), 'ce': float(ce), 'dce': flat(z.grad), 'target': flat(t), 'mse': float(mse), 'dmse': flat(z2.grad)}

    models = []
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    models.append(model_case('mlp', {'kind': 'mlp', 'hidden': [8, 8]}, mlp, ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'], [1, 4, 4], 4, 3))
    cnn = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(4 * 5 * 5, 6), nn.ReLU(), nn.Linear(6, 10))
    models.append(model_case('cnn', {'kind': 'cnn', 'channels': [3, 4], 'dense': 6}, cnn,
                             ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'], [1, 28, 28], 2, 10))

    # ResNet-8, width 2, on 3×8×8: stem, three stages of one BasicBlock, projection shortcuts where the shape changes.
    def block(cin, cout, stride):
        main = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        sc = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))
        return Residual(main, sc)
    w = 2
    res = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                        block(w, w, 1), nn.ReLU(), block(w, 2 * w, 2), nn.ReLU(), block(2 * w, 4 * w, 2), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 5))
    names = ['conv1.weight', 'bn1.weight', 'bn1.bias']
    bns = [('bn1', res[1])]
    for s, blk in enumerate([res[3], res[5], res[7]]):
        pre = f'layer{s + 1}.0'
        names += [f'{pre}.conv1.weight', f'{pre}.bn1.weight', f'{pre}.bn1.bias', f'{pre}.conv2.weight', f'{pre}.bn2.weight', f'{pre}.bn2.bias']
        bns += [(f'{pre}.bn1', blk.main[1]), (f'{pre}.bn2', blk.main[4])]
        if blk.shortcut is not None:
            names += [f'{pre}.shortcut.conv.weight', f'{pre}.shortcut.bn.weight', f'{pre}.shortcut.bn.bias']
            bns += [(f'{pre}.shortcut.bn', blk.shortcut[1])]
    names += ['fc.weight', 'fc.bias']
    models.append(model_case('resnet8', {'kind': 'resnet', 'depth': 8, 'width': w}, res, names, [3, 8, 8], 3, 5, bns))

    D, heads, p = 8, 2, 4
    def tblock(i):
        attn = Residual(nn.Sequential(nn.LayerNorm(D), nn.Linear(D, 3 * D), Attention(heads, True), nn.Linear(D, D)))
        mlpb = Residual(nn.Sequential(nn.LayerNorm(D), nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D)))
        return [attn, mlpb], [f'h{i}.ln1.weight', f'h{i}.ln1.bias', f'h{i}.attn.qkv.weight', f'h{i}.attn.qkv.bias',
                              f'h{i}.attn.proj.weight', f'h{i}.attn.proj.bias', f'h{i}.ln2.weight', f'h{i}.ln2.bias',
                              f'h{i}.mlp.fc.weight', f'h{i}.mlp.fc.bias', f'h{i}.mlp.proj.weight', f'h{i}.mlp.proj.bias']
    mods, tnames = [Patchify(p), nn.Linear(p * p, D), PosEmbed(4, D)], ['patch_embed.weight', 'patch_embed.bias', 'pos_embed.weight']
    for i in range(2):
        m, nm = tblock(i)
        mods += m
        tnames += nm
    mods += [nn.LayerNorm(D), TokenMean(), nn.Linear(D, 4)]
    tnames += ['ln_f.weight', 'ln_f.bias', 'head.weight', 'head.bias']
    models.append(model_case('transformer', {'kind': 'transformer', 'patch': p, 'dim': D, 'heads': heads, 'layers': 2, 'causal': True},
                             nn.Sequential(*mods), tnames, [1, 8, 8], 3, 4))

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'torch': torch.__version__, 'dtype': 'float64', 'layers': layers, 'losses': losses, 'models': models}, f)
    print(f'wrote {os.path.relpath(OUT)}: {len(layers)} layers, {len(models)} models')


if __name__ == '__main__':
    main()
