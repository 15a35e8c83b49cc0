#!/usr/bin/python3
"""PyTorch reference values for the masked-LM layers (float64) and a tiny MLM's first SGDM steps.

Run with Debian's torch:  /usr/bin/python3 scripts/gen_fixtures_text.py
Writes test/fixtures/text/torch_text.json:
  layers  attention with a key padding mask, gather of positions, the tied LM head (whole vocabulary and label-word
          columns): input x, parameters, upstream gradient r, output y, dx and parameter gradients of L = sum(r * y)
  loss    cross-entropy with ignored rows (ignore_index = -1): loss and d loss / d logits
  model   a tiny MLM (vocab 12, T 6, dim 8, 2 heads, 1 block, 2 slots): its float64 loss and gradients on one masked
          batch, then 3 steps of SGD with momentum (torch.optim.SGD, lr 0.1, momentum 0.9) in float32 from the same
          start, with the loss before each step and after the last
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261206)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'text', 'torch_text.json')


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def attention(qkv, heads, lengths):
    """The engine's SelfAttention core with a key padding mask: sample b attends to keys t' < lengths[b]."""
    n, T, D3 = qkv.shape
    D = D3 // 3
    hs = D // heads
    q, k, v = qkv.split(D, dim=2)
    q, k, v = (a.reshape(n, T, heads, hs).transpose(1, 2) for a in (q, k, v))
    att = q @ k.transpose(-2, -1) / math.sqrt(hs)
    pad = torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]
    att = att.masked_fill(pad[:, None, None, :], float('-inf'))
    return (F.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(n, T, D)


def gather(h, positions):
    n, M = positions.shape
    return h[torch.arange(n)[:, None], positions]


def case(name, f, x, params, extra=None):
    x = x.clone().requires_grad_(x.dtype == torch.float64)
    for p in params.values():
        p.requires_grad_(True)
    y = f(x)
    r = torch.randn_like(y)
    (r * y).sum().backward()
    out = {'name': name, 'inShape': list(x.shape[1:]), 'n': x.shape[0], 'x': flat(x), 'r': flat(r), 'y': flat(y),
           'dx': flat(x.grad) if x.grad is not None else None,
           'params': {k: flat(p) for k, p in params.items()}, 'grads': {k: flat(p.grad) for k, p in params.items()}}
    out.update(extra or {})
    return out


def layer_cases():
    cases = []
    lengths = [5, 3, 1]
    cases.append(case('attention_padmask_2heads', lambda x: attention(x, 2, lengths), torch.randn(3, 5, 12), {}, {'lengths': lengths}))
    positions = torch.tensor([[4, 0], [2, 2]])
    cases.append(case('gather', lambda x: gather(x, positions), torch.randn(2, 5, 3), {}, {'positions': flat(positions)}))
    E = torch.randn(6, 3) * 0.5
    b = torch.randn(6) * 0.5
    cases.append(case('tiedhead_full', lambda x: x @ E.t() + b, torch.randn(2, 2, 3), {'e.weight': E, 'head.bias': b}))
    E2 = E.detach().clone()
    b2 = b.detach().clone()
    cols = [4, 1]
    cases.append(case('tiedhead_columns', lambda x: x @ E2[cols].t() + b2[cols], torch.randn(2, 2, 3), {'e.weight': E2, 'head.bias': b2}, {'columns': cols}))
    return cases


def loss_case():
    z = torch.randn(5, 4, requires_grad=True)
    y = torch.tensor([2, -1, 0, 3, -1])
    loss = F.cross_entropy(z, y, ignore_index=-1)
    loss.backward()
    return {'logits': flat(z), 'labels': y.tolist(), 'loss': float(loss), 'dlogits': flat(z.grad)}


class TinyMLM(nn.Module):
    """The engine's mlm family: pre-LN block, final LN, gather, dense + GELU + LN, decoder tied to tok_embed."""

    def __init__(self, V, T, D, heads):
        super().__init__()
        self.heads = heads
        self.tok_embed = nn.Embedding(V, D)
        self.pos_embed = nn.Parameter(torch.zeros(T, D))
        self.ln1, self.qkv, self.proj = nn.LayerNorm(D), nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.ln2, self.fc, self.fc2 = nn.LayerNorm(D), nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.ln_f, self.dense, self.mlm_ln = nn.LayerNorm(D), nn.Linear(D, D), nn.LayerNorm(D)
        self.decoder_bias = nn.Parameter(torch.zeros(V))

    def named(self):
        """Parameters in the engine's order and names."""
        return [('tok_embed.weight', self.tok_embed.weight), ('pos_embed.weight', self.pos_embed),
                ('h0.ln1.weight', self.ln1.weight), ('h0.ln1.bias', self.ln1.bias),
                ('h0.attn.qkv.weight', self.qkv.weight), ('h0.attn.qkv.bias', self.qkv.bias),
                ('h0.attn.proj.weight', self.proj.weight), ('h0.attn.proj.bias', self.proj.bias),
                ('h0.ln2.weight', self.ln2.weight), ('h0.ln2.bias', self.ln2.bias),
                ('h0.mlp.fc.weight', self.fc.weight), ('h0.mlp.fc.bias', self.fc.bias),
                ('h0.mlp.proj.weight', self.fc2.weight), ('h0.mlp.proj.bias', self.fc2.bias),
                ('ln_f.weight', self.ln_f.weight), ('ln_f.bias', self.ln_f.bias),
                ('mlm.dense.weight', self.dense.weight), ('mlm.dense.bias', self.dense.bias),
                ('mlm.ln.weight', self.mlm_ln.weight), ('mlm.ln.bias', self.mlm_ln.bias),
                ('mlm.decoder.bias', self.decoder_bias)]

    def forward(self, ids, lengths, positions):
        h = self.tok_embed(ids) + self.pos_embed
        h = h + self.proj(attention(self.qkv(self.ln1(h)), self.heads, lengths))
        h = h + self.fc2(F.gelu(self.fc(self.ln2(h))))
        h = gather(self.ln_f(h), positions)
        h = self.mlm_ln(F.gelu(self.dense(h)))
        return h @ self.tok_embed.weight.t() + self.decoder_bias


def model_case():
    V, T, D, heads, M = 12, 6, 8, 2, 2
    m = TinyMLM(V, T, D, heads)
    with torch.no_grad():
        for _, p in m.named():
            p.copy_(torch.randn_like(p) * 0.5)
    # Two sequences: [CLS]=2 … [SEP]=3, the second padded with [PAD]=0; masked inputs carry [MASK]=4.
    ids = torch.tensor([[2, 4, 7, 9, 4, 3], [2, 8, 4, 3, 0, 0]])
    lengths = [6, 4]
    positions = torch.tensor([[1, 4], [2, 0]])
    labels = torch.tensor([6, 11, 10, -1])
    start = {k: flat(p) for k, p in m.named()}

    logits = m(ids, lengths, positions).reshape(-1, V)
    loss = F.cross_entropy(logits, labels, ignore_index=-1)
    loss.backward()
    grads = {k: flat(p.grad) for k, p in m.named()}

    m32 = TinyMLM(V, T, D, heads).float()
    with torch.no_grad():
        for (_, p32), (_, p) in zip(m32.named(), m.named()):
            p32.copy_(p.float())
    opt = torch.optim.SGD([p for _, p in m32.named()], lr=0.1, momentum=0.9)
    losses = []
    for step in range(4):
        opt.zero_grad()
        l32 = F.cross_entropy(m32(ids, lengths, positions).reshape(-1, V), labels, ignore_index=-1)
        losses.append(float(l32))
        if step < 3:
            l32.backward()
            opt.step()
    return {'vocab': V, 'seqLen': T, 'dim': D, 'heads': heads, 'slots': M, 'ids': flat(ids), 'lengths': lengths,
            'positions': flat(positions), 'labels': labels.tolist(), 'params': start, 'loss': float(loss),
            'logits': flat(logits), 'grads': grads, 'sgdm': {'lr': 0.1, 'momentum': 0.9, 'losses': losses}}


def main():
    out = {'torch': torch.__version__, 'layers': layer_cases(), 'loss': loss_case(), 'model': model_case()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
