#!/usr/bin/python3
"""Golden traces of torch.optim.SGD in float64 for the optimizer core.

Run with Debian's PyTorch:  apt-get install -y python3-torch && /usr/bin/python3 scripts/gen_fixtures_optim.py
Writes test/fixtures/optim/torch_sgd.json: a list of cases, each an `optim trace` spec plus the iterates that
torch produced. The noise is drawn here (seeded) and stored in the spec, so the TypeScript side replays it exactly.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'optim', 'torch_sgd.json')


def svag_coefficients(l):
    s = math.sqrt(2 * l - 1)
    return (1 + s) / 2, (1 - s) / 2


def run_case(name, steps, dim, opt_kwargs, spec_optimizer, schedule=None, svag=None, momenta=None, lrs=None,
             noise_scale=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(dim, generator=g)
    h = torch.rand(dim, generator=g) * 2 + 0.1
    noise = torch.randn(steps, dim, generator=g) * noise_scale
    noise2 = torch.randn(steps, dim, generator=g) * noise_scale
    x = x0.clone().requires_grad_(False)
    p = torch.nn.Parameter(x0.clone())
    opt = torch.optim.SGD([p], **opt_kwargs)
    sched = None
    if schedule is not None:
        kind = schedule['kind']
        if kind == 'multistep':
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=schedule['milestones'], gamma=schedule['gamma'])
        elif kind == 'cosine':
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=schedule['total'], eta_min=schedule['min'])
        elif kind == 'warmup-linear':
            w = schedule['warmup']
            sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0 / w, end_factor=1.0, total_iters=w - 1)
        elif kind == 'array':
            pass
        else:
            raise ValueError(kind)
    xs = []
    for k in range(steps):
        if momenta is not None:
            opt.param_groups[0]['momentum'] = momenta[k]
        if lrs is not None:
            opt.param_groups[0]['lr'] = lrs[k]
        with torch.no_grad():
            grad = h * p + noise[k]
            if svag is not None and svag != 1:
                r1, r2 = svag_coefficients(svag)
                grad = r1 * grad + r2 * (h * p + noise2[k])
        p.grad = grad.clone()
        opt.step()
        if sched is not None:
            sched.step()
        xs.append(p.detach().tolist())
    spec = {
        'x0': x0.tolist(),
        'problem': {'kind': 'quadratic', 'h': h.tolist(), 'noise': noise.tolist()},
        'optimizer': spec_optimizer,
        'steps': steps,
    }
    if svag is not None:
        spec['problem']['noise2'] = noise2.tolist()
        spec['svag'] = {'l': svag}
    if schedule is not None:
        spec['schedule'] = schedule
    return {'name': name, 'torch': torch.__version__, 'torchKwargs': opt_kwargs, 'spec': spec, 'x': xs}


def main():
    cases = []
    cases.append(run_case('plain SGD', 20, 3, dict(lr=0.1), {'form': 'sgd', 'lr': 0.1}, seed=1))
    cases.append(run_case('heavy ball beta=0.9', 40, 4, dict(lr=0.05, momentum=0.9),
                          {'form': 'pytorch', 'lr': 0.05, 'momentum': 0.9}, seed=2))
    cases.append(run_case('dampening 0.5 (first step skips dampening)', 25, 3, dict(lr=0.1, momentum=0.8, dampening=0.5),
                          {'form': 'pytorch', 'lr': 0.1, 'momentum': 0.8, 'dampening': 0.5}, seed=3))
    cases.append(run_case('nesterov + coupled weight decay', 30, 4,
                          dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
                          {'form': 'pytorch', 'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 0.01}, seed=4))
    cases.append(run_case('maximize + weight decay', 20, 3, dict(lr=0.02, momentum=0.5, weight_decay=0.1, maximize=True),
                          {'form': 'pytorch', 'lr': 0.02, 'momentum': 0.5, 'weightDecay': 0.1, 'maximize': True}, seed=5))
    cases.append(run_case('step decay x0.1 at 10 and 25', 35, 3, dict(lr=0.1, momentum=0.9),
                          {'form': 'pytorch', 'lr': 0.1, 'momentum': 0.9},
                          schedule={'kind': 'multistep', 'milestones': [10, 25], 'gamma': 0.1}, seed=6))
    cases.append(run_case('cosine to 0.001 over 30', 30, 3, dict(lr=0.1, momentum=0.9),
                          {'form': 'pytorch', 'lr': 0.1, 'momentum': 0.9},
                          schedule={'kind': 'cosine', 'total': 30, 'min': 0.001}, seed=7))
    cases.append(run_case('linear warm-up over 10', 20, 3, dict(lr=0.1, momentum=0.9),
                          {'form': 'pytorch', 'lr': 0.1, 'momentum': 0.9},
                          schedule={'kind': 'warmup-linear', 'warmup': 10}, seed=8))
    cases.append(run_case('SVAG l=4 with step decay', 40, 3, dict(lr=0.025, momentum=0.9),
                          {'form': 'pytorch', 'lr': 0.025, 'momentum': 0.9},
                          schedule={'kind': 'multistep', 'milestones': [20, 30], 'gamma': 0.1}, svag=4, seed=9))
    cases.append(run_case('SVAG l=1 is plain SGDM', 20, 3, dict(lr=0.05, momentum=0.9),
                          {'form': 'pytorch', 'lr': 0.05, 'momentum': 0.9}, svag=1, seed=10))
    # A general normalised schedule (eta_k, beta_k) run through torch as per-step (gamma_k, b_k),
    # gamma_k = eta_k (1 - beta_k), b_k = beta_k (1 - beta_{k-1}) / (1 - beta_k). The TypeScript side runs the
    # normalised form directly on (eta_k, beta_k): equality checks the conversion formula against PyTorch itself.
    steps = 30
    etas = [0.5 if k < 12 else 0.05 for k in range(steps)]
    betas = [0.5 + 0.4 * min(1.0, k / 10) for k in range(steps)]
    gammas = [etas[k] * (1 - betas[k]) for k in range(steps)]
    bks = [betas[k] * (1 - (betas[k - 1] if k > 0 else betas[0])) / (1 - betas[k]) for k in range(steps)]
    cases.append(run_case('normalised schedule (eta_k, beta_k) vs torch per-step (gamma_k, b_k)', steps, 3,
                          dict(lr=gammas[0], momentum=bks[0]),
                          {'form': 'normalized', 'lr': 1.0, 'betas': betas},
                          schedule={'kind': 'array', 'values': etas}, momenta=bks, lrs=gammas, seed=11))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/gen_fixtures_optim.py', 'torch': torch.__version__, 'cases': cases}, f)
    print(f'wrote {len(cases)} cases to {OUT}')


if __name__ == '__main__':
    main()
