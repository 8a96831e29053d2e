"""Gradient cases for the reductions and cumsum (used by gen_grad.py)."""
import torch
from golden import R
from grad_cases import rn, t

NAN, INF = float('nan'), float('inf')


def dims(x, axis):
    """Kiln's axis as PyTorch's dim tuple: None is every axis."""
    if axis is None:
        return tuple(range(x.dim()))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def prod(x, axis, keepdims):
    # PyTorch 1.13's prod takes one dim at a time.
    if x.dim() == 0:
        return torch.prod(x)
    ds = sorted((d % x.dim() for d in dims(x, axis)), reverse=True)
    for d in ds:
        x = torch.prod(x, d, keepdim=True)
    return x if keepdims else x.reshape([n for i, n in enumerate(x.shape) if i not in ds])


def var(x, a, corr, k):
    return torch.var(x, dims(x, a) if a is not None else None, correction=corr, keepdim=k)


REDUCE = {
    # Kiln reduces a scalar over no axes: the identity.
    'sum': lambda x, a, k: torch.sum(x, dims(x, a), keepdim=k) if x.dim() else x * 1,
    'mean': lambda x, a, k: torch.mean(x, dims(x, a), keepdim=k) if x.dim() else x * 1,
    # amax/amin share the gradient evenly among tied extrema (as does PyTorch's full max()).
    'max': lambda x, a, k: torch.amax(x, dims(x, a), keepdim=k),
    'min': lambda x, a, k: torch.amin(x, dims(x, a), keepdim=k),
    'prod': prod,
    'logsumexp': lambda x, a, k: torch.logsumexp(x, dims(x, a), keepdim=k) if x.dim() else x * 1,
}
AXES = [(None, False), (1, False), (-1, True), ([0, 2], False), ([-1, 0], True)]
TIES = [[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, -1.0], [0.5, -4.0, 0.5, -4.0]]
ZEROS = [[0.5, 0.0, 2.0, 1.5], [0.0, 3.0, 0.0, -1.0], [1.5, -0.5, 2.0, 0.75]]


def add_cases(c):
    for name, fn in REDUCE.items():
        x = rn(2, 3, 4, scale=0.3, offset=1) if name == 'prod' else rn(2, 3, 4, scale=2)
        for axis, keepdims in AXES:
            c.add(name, f'[2,3,4] axis {axis} keepdims {keepdims}', [x], [R(0), axis, keepdims], fn)
        c.add(name, 'scalar', [rn()], [R(0), None, False], fn)
        c.add(name, 'non-contiguous [4,3]ᵀ axis 0', [rn(4, 3)], [R(0, [1, 0]), 0, False], fn)
    c.add('sum', 'zero-size [0,3] over the empty axis', [torch.zeros(0, 3, dtype=torch.float64)], [R(0), 0, False], REDUCE['sum'])
    for name in ['max', 'min']:
        c.add(name, 'ties split evenly along axis 1', [t(TIES)], [R(0), 1, False], REDUCE[name])
        c.add(name, 'ties split evenly over all', [t(TIES)], [R(0), None, False], REDUCE[name])
        c.add(name, 'ties split evenly along axis 0 keepdims', [t(TIES)], [R(0), 0, True], REDUCE[name])
    # prod's gradient is Π of the others, also where x = 0 (not prod / x).
    c.add('prod', 'zeros: one and two per row', [t(ZEROS)], [R(0), 1, False], prod)
    c.add('prod', 'zeros: two over all', [t(ZEROS)], [R(0), None, False], prod)
    c.add('prod', 'zeros: one over all', [t([[2.0, 0.0, 2.0, 0.5]])], [R(0), None, False], prod)
    c.add('max', 'a row with NaN gets NaN gradients', [t([[NAN, 1.0, 3.0], [2.0, 2.0, -1.0]])], [R(0), 1, False], REDUCE['max'])
    c.add('min', '±inf ties split evenly', [t([[-INF, -INF, 1.0], [INF, INF, INF]])], [R(0), 1, False], REDUCE['min'])
    c.add('logsumexp', 'a row of -inf, a row with +inf', [t([[-INF, -INF, -INF], [INF, 1.0, 0.0]])], [R(0), 1, False], REDUCE['logsumexp'])
    c.add('var', 'one element per row, correction 0', [t([[1.5], [2.0]])], [R(0), 1, 0, False], var)
    c.add('logsumexp', 'with -inf entries', [t([[0.5, -INF, 1.0], [-INF, 2.0, -1.0]])], [R(0), 1, False], REDUCE['logsumexp'])
    c.add('logsumexp', 'large values', [t([[1000.0, 1000.5, 999.0], [-1000.0, -999.0, -1e3]])], [R(0), 1, False], REDUCE['logsumexp'])
    for axis, corr, keepdims in [(None, 1, False), (1, 1, False), (-1, 0, True), ([0, 2], 1, True), ([-1, 0], 2, False)]:
        c.add('var', f'[2,3,4] axis {axis} correction {corr} keepdims {keepdims}', [rn(2, 3, 4, scale=2, offset=1)],
              [R(0), axis, corr, keepdims], var)
    c.add('var', 'non-contiguous [4,3]ᵀ axis 1', [rn(4, 3)], [R(0, [1, 0]), 1, 1, False], var)
    for axis in [0, 1, -1]:
        c.add('cumsum', f'[3,4] axis {axis}', [rn(3, 4)], [R(0), axis], torch.cumsum)
    c.add('cumsum', '[2,3,4] axis -2', [rn(2, 3, 4)], [R(0), -2], torch.cumsum)
    c.add('cumsum', 'scalar', [rn()], [R(0), 0], torch.cumsum)
