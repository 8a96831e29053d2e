"""Golden values for @kiln/nn's losses, optimizers, learning-rate schedulers and clipGradNorm.

Losses: forward value and gradients of (loss * w).sum() with respect to the differentiable
inputs, for a fixed cotangent w stored in the case. Optimizers: the parameter trajectory of N
steps minimizing a fixed coupled quadratic (see `objective`), for each option combination.
Schedulers: the learning rate after each step. clipGradNorm: the total norm and clipped grads.

Run with Debian's python3-torch: /usr/bin/python3 scripts/golden/gen_nn_losses_optim.py
Writes packages/nn/test/golden/nn_losses_optim.json; the Kiln side is packages/nn/test/losses.test.ts
and optim.test.ts (helpers in packages/nn/test/helpers/golden.ts).
"""
import os

import torch
import torch.nn.functional as F
from golden import encode, write

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'nn', 'test', 'golden')
g = torch.Generator().manual_seed(11)


def randn(*shape, dtype=torch.float32):
    return torch.randn(tuple(shape), generator=g, dtype=torch.float64).to(dtype)


def labels(n_classes, *shape):
    return torch.randint(0, n_classes, shape, generator=g, dtype=torch.int64)


class Out:
    cases = []


# ---- losses -------------------------------------------------------------------------------
# Each case: loss name, tensors by role, options (Kiln's names), which roles get gradients.
ROLE_ARGS = ('input', 'target')


def loss_case(loss, name, tensors, options, torch_fn, grad_roles=('input',)):
    ts = {k: v.clone().requires_grad_(k in grad_roles) for k, v in tensors.items()}
    out = torch_fn(**ts)
    w = randn(*out.shape, dtype=out.dtype)
    diff = [ts[k] for k in grad_roles]
    grads = torch.autograd.grad((out * w).sum(), diff) if diff else []
    Out.cases.append({
        'kind': 'loss', 'loss': loss, 'name': name, 'options': options,
        'tensors': {k: encode(v) for k, v in tensors.items()},
        'cotangent': encode(w), 'output': encode(out),
        'grads': {k: encode(gr) for k, gr in zip(grad_roles, grads)},
    })


def ce(input, target, weight=None, **kw):
    return F.cross_entropy(input, target, weight=weight, **kw)


for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
    x = randn(4, 5, dtype=dtype) * 2
    y = labels(5, 4)
    wt = torch.rand(5, generator=g, dtype=torch.float64).to(dtype) + 0.5
    for red in ['mean', 'sum', 'none']:
        loss_case('crossEntropy', f'{dn} [4,5] {red}', {'input': x, 'target': y}, {'reduction': red}, lambda input, target, red=red: ce(input, target, reduction=red))
        loss_case('crossEntropy', f'{dn} [4,5] weight {red}', {'input': x, 'target': y, 'weight': wt}, {'reduction': red},
                  lambda input, target, weight, red=red: ce(input, target, weight, reduction=red))
        loss_case('crossEntropy', f'{dn} [4,5] labelSmoothing 0.2 weight {red}', {'input': x, 'target': y, 'weight': wt},
                  {'reduction': red, 'labelSmoothing': 0.2},
                  lambda input, target, weight, red=red: ce(input, target, weight, reduction=red, label_smoothing=0.2))
    y_ign = y.clone()
    y_ign[1] = -100
    for red in ['mean', 'sum', 'none']:
        loss_case('crossEntropy', f'{dn} ignoreIndex -100 weight labelSmoothing 0.1 {red}', {'input': x, 'target': y_ign, 'weight': wt},
                  {'reduction': red, 'labelSmoothing': 0.1},
                  lambda input, target, weight, red=red: ce(input, target, weight, reduction=red, label_smoothing=0.1))
    loss_case('crossEntropy', f'{dn} ignoreIndex 2 (a real class)', {'input': x, 'target': y}, {'ignoreIndex': 2},
              lambda input, target: ce(input, target, ignore_index=2))
    xk = randn(2, 3, 4, 2, dtype=dtype)
    yk = labels(3, 2, 4, 2)
    yk[0, 1, 0] = -100
    wk = torch.tensor([0.5, 2.0, 1.0], dtype=dtype)
    loss_case('crossEntropy', f'{dn} [2,3,4,2] spatial, weight, smoothing, ignored', {'input': xk, 'target': yk, 'weight': wk},
              {'labelSmoothing': 0.3}, lambda input, target, weight: ce(input, target, weight, label_smoothing=0.3))
    loss_case('crossEntropy', f'{dn} [2,3,4,2] spatial none', {'input': xk, 'target': yk}, {'reduction': 'none'},
              lambda input, target: ce(input, target, reduction='none'))
    loss_case('crossEntropy', f'{dn} unbatched [5]', {'input': randn(5, dtype=dtype), 'target': torch.tensor(3)}, {},
              lambda input, target: ce(input, target))
    probs = torch.softmax(randn(3, 4, dtype=torch.float64), 1).to(dtype)
    for red in ['mean', 'sum', 'none']:
        loss_case('crossEntropy', f'{dn} probability targets, weight, smoothing {red}', {'input': randn(3, 4, dtype=dtype) * 2, 'target': probs, 'weight': wt[:4]},
                  {'reduction': red, 'labelSmoothing': 0.25},
                  lambda input, target, weight, red=red: ce(input, target, weight, reduction=red, label_smoothing=0.25), grad_roles=('input', 'target'))
    loss_case('crossEntropy', f'{dn} large logits stay finite', {'input': torch.tensor([[1000., -1000., 0.], [-5e3, 5e3, 1.]], dtype=dtype), 'target': torch.tensor([1, 1])}, {},
              lambda input, target: ce(input, target))

    logp = torch.log_softmax(randn(5, 4, dtype=dtype), 1)
    yn = labels(4, 5)
    yn[3] = -100
    for red in ['mean', 'sum', 'none']:
        loss_case('nllLoss', f'{dn} [5,4] weight ignored {red}', {'input': logp, 'target': yn, 'weight': wt[:4]}, {'reduction': red},
                  lambda input, target, weight, red=red: F.nll_loss(input, target, weight=weight, reduction=red))
    loss_case('nllLoss', f'{dn} [2,4,3] spatial', {'input': randn(2, 4, 3, dtype=dtype), 'target': labels(4, 2, 3)}, {},
              lambda input, target: F.nll_loss(input, target))

    a = randn(3, 4, dtype=dtype)
    b = randn(3, 4, dtype=dtype)
    b[0, 0] = a[0, 0]  # a zero difference: l1's gradient there is 0
    for red in ['mean', 'sum', 'none']:
        loss_case('mseLoss', f'{dn} [3,4] {red}', {'input': a, 'target': b}, {'reduction': red},
                  lambda input, target, red=red: F.mse_loss(input, target, reduction=red), grad_roles=('input', 'target'))
        loss_case('l1Loss', f'{dn} [3,4] {red}', {'input': a, 'target': b}, {'reduction': red},
                  lambda input, target, red=red: F.l1_loss(input, target, reduction=red), grad_roles=('input', 'target'))

    logits = torch.cat([randn(4, 3, dtype=dtype) * 3, torch.tensor([[0., 100., -100.]], dtype=dtype)])
    t = torch.rand(5, 3, generator=g, dtype=torch.float64).to(dtype)
    t[0] = torch.tensor([0., 1., 1.])
    t[4] = torch.tensor([1., 0., 1.])
    bw = torch.rand(3, generator=g, dtype=torch.float64).to(dtype) + 0.5
    pw = torch.tensor([2., 0.5, 3.], dtype=dtype)
    for red in ['mean', 'sum', 'none']:
        loss_case('binaryCrossEntropyWithLogits', f'{dn} [5,3] {red}', {'input': logits, 'target': t}, {'reduction': red},
                  lambda input, target, red=red: F.binary_cross_entropy_with_logits(input, target, reduction=red), grad_roles=('input', 'target'))
        loss_case('binaryCrossEntropyWithLogits', f'{dn} [5,3] weight posWeight {red}', {'input': logits, 'target': t, 'weight': bw, 'posWeight': pw},
                  {'reduction': red},
                  lambda input, target, weight, posWeight, red=red: F.binary_cross_entropy_with_logits(input, target, weight=weight, pos_weight=posWeight, reduction=red),
                  grad_roles=('input', 'target'))
    loss_case('binaryCrossEntropyWithLogits', f'{dn} posWeight only', {'input': logits, 'target': t, 'posWeight': pw}, {},
              lambda input, target, posWeight: F.binary_cross_entropy_with_logits(input, target, pos_weight=posWeight))


# ---- optimizers ---------------------------------------------------------------------------
STEPS = 8


def objective(p0, p1, c):
    """A coupled quadratic with a fixed minimum: sum(a·(p0 - m0)²) + sum((p1 - m1)²·p1scale) + k·sum(p0)·sum(p1)."""
    return (c['a'] * (p0 - c['m0']) ** 2).sum() + (c['s'] * (p1 - c['m1']) ** 2).sum() + 0.05 * p0.sum() * p1.sum()


def kiln_to_torch(options):
    names = {'weightDecay': 'weight_decay'}
    out = {}
    for k, v in options.items():
        out[names.get(k, k)] = tuple(v) if isinstance(v, list) else v
    return out


def optim_case(opt_name, name, options, dtype=torch.float64, groups=None):
    c = {'a': torch.rand(3, 2, generator=g, dtype=torch.float64).to(dtype) + 0.5, 'm0': randn(3, 2, dtype=dtype),
         's': torch.rand(4, generator=g, dtype=torch.float64).to(dtype) + 0.2, 'm1': randn(4, dtype=dtype)}
    init = [randn(3, 2, dtype=dtype), randn(4, dtype=dtype)]
    params = [p.clone().requires_grad_(True) for p in init]
    cls = getattr(torch.optim, opt_name)
    if groups is None:
        opt = cls(params, **kiln_to_torch(options), **({'foreach': False}))
    else:
        opt = cls([{'params': [params[i]], **kiln_to_torch(gopt)} for i, gopt in enumerate(groups)], **kiln_to_torch(options), foreach=False)
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        objective(*params, c).backward()
        opt.step()
        trajectory.append([encode(p) for p in params])
    Out.cases.append({
        'kind': 'optim', 'optimizer': opt_name, 'name': name, 'options': options, 'groups': groups,
        'constants': {k: encode(v) for k, v in c.items()}, 'init': [encode(p) for p in init], 'trajectory': trajectory,
    })


for dtype, dn in [(torch.float64, 'f64'), (torch.float32, 'f32')]:
    for opts in [{'lr': 0.1}, {'lr': 0.1, 'momentum': 0.9}, {'lr': 0.05, 'momentum': 0.9, 'dampening': 0.5},
                 {'lr': 0.05, 'momentum': 0.8, 'nesterov': True}, {'lr': 0.1, 'weightDecay': 0.1},
                 {'lr': 0.05, 'momentum': 0.9, 'weightDecay': 0.01, 'nesterov': True}, {'lr': 0.01, 'maximize': True}]:
        optim_case('SGD', f'{dn} {opts}', opts, dtype)
    for opts in [{'lr': 0.1}, {'lr': 0.1, 'amsgrad': True}, {'lr': 0.05, 'weightDecay': 0.1}, {'lr': 0.1, 'betas': [0.8, 0.99], 'eps': 1e-6},
                 {'lr': 0.05, 'maximize': True}, {'lr': 0.1, 'amsgrad': True, 'weightDecay': 0.05}]:
        optim_case('Adam', f'{dn} {opts}', opts, dtype)
    for opts in [{'lr': 0.1}, {'lr': 0.1, 'weightDecay': 0.1, 'amsgrad': True}, {'lr': 0.05, 'weightDecay': 0.0}]:
        optim_case('AdamW', f'{dn} {opts}', opts, dtype)
    for opts in [{'lr': 0.01}, {'lr': 0.01, 'centered': True}, {'lr': 0.01, 'momentum': 0.9}, {'lr': 0.01, 'alpha': 0.9, 'eps': 1e-6},
                 {'lr': 0.01, 'centered': True, 'momentum': 0.5, 'weightDecay': 0.1}, {'lr': 0.01, 'maximize': True}]:
        optim_case('RMSprop', f'{dn} {opts}', opts, dtype)
optim_case('SGD', 'f64 two groups with their own lr and momentum', {'lr': 0.1}, groups=[{'momentum': 0.9}, {'lr': 0.02}])
optim_case('Adam', 'f64 two groups, second with weight decay', {'lr': 0.05}, groups=[{}, {'weightDecay': 0.2, 'amsgrad': True}])


# ---- schedulers ---------------------------------------------------------------------------
S = torch.optim.lr_scheduler


def sched_case(name, build, lrs=(0.1,), steps=25):
    opt = torch.optim.SGD([{'params': [torch.zeros(1, requires_grad=True)], 'lr': lr} for lr in lrs], lr=lrs[0])
    spec, sched = build(opt)
    history = [[gr['lr'] for gr in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        history.append([gr['lr'] for gr in opt.param_groups])
    Out.cases.append({'kind': 'scheduler', 'name': name, 'spec': spec, 'lrs': list(lrs), 'history': history})


sched_case('StepLR stepSize 5 gamma 0.5', lambda o: ({'type': 'StepLR', 'stepSize': 5, 'gamma': 0.5}, S.StepLR(o, 5, 0.5)))
sched_case('StepLR default gamma, two groups', lambda o: ({'type': 'StepLR', 'stepSize': 3}, S.StepLR(o, 3)), lrs=(0.1, 0.02))
sched_case('CosineAnnealingLR tMax 10 etaMin 0.01, past tMax', lambda o: ({'type': 'CosineAnnealingLR', 'tMax': 10, 'etaMin': 0.01}, S.CosineAnnealingLR(o, 10, 0.01)))
sched_case('CosineAnnealingLR tMax 7, two groups', lambda o: ({'type': 'CosineAnnealingLR', 'tMax': 7}, S.CosineAnnealingLR(o, 7)), lrs=(0.3, 0.05))
sched_case('LinearWarmup defaults', lambda o: ({'type': 'LinearWarmup'}, S.LinearLR(o)))
sched_case('LinearWarmup startFactor 0.1 endFactor 0.5 totalIters 8',
           lambda o: ({'type': 'LinearWarmup', 'startFactor': 0.1, 'endFactor': 0.5, 'totalIters': 8}, S.LinearLR(o, 0.1, 0.5, 8)))


def warmup_cosine(o):
    w = S.LinearLR(o, start_factor=0.1, total_iters=4)
    cos = S.CosineAnnealingLR(o, T_max=12, eta_min=0.001)
    return ({'type': 'SequentialLR', 'milestones': [4], 'schedulers': [{'type': 'LinearWarmup', 'startFactor': 0.1, 'totalIters': 4},
                                                                        {'type': 'CosineAnnealingLR', 'tMax': 12, 'etaMin': 0.001}]},
            S.SequentialLR(o, [w, cos], milestones=[4]))


sched_case('SequentialLR warm-up then cosine', warmup_cosine, lrs=(0.1, 0.4))


def three_phase(o):
    a = S.LinearLR(o, start_factor=0.5, total_iters=3)
    b = S.StepLR(o, 2, 0.5)
    cos = S.CosineAnnealingLR(o, T_max=6)
    return ({'type': 'SequentialLR', 'milestones': [3, 9], 'schedulers': [{'type': 'LinearWarmup', 'startFactor': 0.5, 'totalIters': 3},
                                                                           {'type': 'StepLR', 'stepSize': 2, 'gamma': 0.5},
                                                                           {'type': 'CosineAnnealingLR', 'tMax': 6}]},
            S.SequentialLR(o, [a, b, cos], milestones=[3, 9]))


sched_case('SequentialLR three phases', three_phase)


# ---- clipGradNorm -------------------------------------------------------------------------
for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
    grads = [randn(3, 4, dtype=dtype), randn(5, dtype=dtype) * 3, randn(2, 2, dtype=dtype) * 0.1]
    for max_norm, norm_type in [(1.0, 2.0), (2.5, 1.0), (0.5, float('inf')), (1.5, 3.0), (100.0, 2.0)]:
        ps = [torch.zeros_like(gr, requires_grad=True) for gr in grads]
        for p, gr in zip(ps, grads):
            p.grad = gr.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        Out.cases.append({'kind': 'clip', 'name': f'{dn} maxNorm {max_norm} normType {norm_type}', 'maxNorm': max_norm,
                          'normType': 'inf' if norm_type == float('inf') else norm_type,
                          'grads': [encode(gr) for gr in grads], 'total': encode(total), 'clipped': [encode(p.grad) for p in ps]})

write('nn_losses_optim', Out, OUT)
