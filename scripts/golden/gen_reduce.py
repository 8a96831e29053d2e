"""Golden values for reductions and cumsum (group 'reduce').

Kiln's signatures: sum/mean/max/min/prod/logsumexp(x, axis, keepdims), argmax/argmin(x, axis,
keepdims), var(x, axis, correction, keepdims), cumsum(x, axis). axis None means every axis.
"""
import torch
from golden import R, Cases, randn, write

g = torch.Generator().manual_seed(2)
c = Cases()
NAN, INF = float('nan'), float('inf')


def dims(x, axis):
    """Kiln's axis as PyTorch's dim tuple: None is every axis."""
    if axis is None:
        return tuple(range(x.dim()))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def prod(x, axis, keepdims):
    # PyTorch 1.13's prod takes one dim at a time: reduce the largest dims first.
    if x.dim() == 0:
        return torch.prod(x)
    ds = sorted((d % x.dim() for d in dims(x, axis)), reverse=True)
    for d in ds:
        x = torch.prod(x, d, keepdim=True)
    return x if keepdims else x.reshape([n for i, n in enumerate(x.shape) if i not in ds])


REDUCE = {
    'sum': lambda x, a, k: torch.sum(x, dims(x, a), keepdim=k) if x.dim() else torch.sum(x),
    'mean': lambda x, a, k: torch.mean(x, dims(x, a), keepdim=k) if x.dim() else x.clone(),
    'max': lambda x, a, k: torch.amax(x, dims(x, a), keepdim=k),
    'min': lambda x, a, k: torch.amin(x, dims(x, a), keepdim=k),
    'prod': prod,
    'logsumexp': lambda x, a, k: torch.logsumexp(x, dims(x, a), keepdim=k) if x.dim() else torch.logsumexp(x, 0),
}
FLOAT_ONLY = {'mean'}
HAS_IDENTITY = {'sum', 'prod', 'mean', 'logsumexp'}  # defined over empty axes


for name, fn in REDUCE.items():
    # prod of many values over/underflows: keep factors near 1.
    mk = (lambda *s, dtype=torch.float32: (randn(*s, g=g, dtype=torch.float64) * 0.3 + 1).to(dtype)) if name == 'prod' \
        else (lambda *s, dtype=torch.float32: (randn(*s, g=g, dtype=torch.float64) * 2).to(dtype))
    x = mk(3, 4, 5)
    for axis, keepdims in [(None, False), (None, True), (1, False), (-1, True), ([0, 2], False), ([-1, 0], True), ([0, 1, 2], False)]:
        c.add(name, f'f32 [3,4,5] axis {axis} keepdims {keepdims}', [x], [R(0), axis, keepdims], fn)
    x64 = mk(4, 6, dtype=torch.float64)
    c.add(name, 'f64 [4,6] axis 0', [x64], [R(0), 0, False], fn)
    c.add(name, 'f64 [4,6] all keepdims', [x64], [R(0), None, True], fn)
    c.add(name, 'f32 [2,300] axis 1 (long rows)', [mk(2, 300)], [R(0), 1, False], fn)
    c.add(name, 'f32 [6] 1-D', [mk(6)], [R(0), 0, False], fn)
    c.add(name, 'non-contiguous [4,3]ᵀ axis 0', [mk(4, 3)], [R(0, [1, 0]), 0, False], fn)
    c.add(name, 'non-contiguous [2,3,4] permuted, axes [0,1]', [mk(2, 3, 4)], [R(0, [2, 0, 1]), [0, 1], False], fn)
    c.add(name, 'scalar, axis None', [torch.tensor(1.25)], [R(0), None, False], fn)
    c.add(name, 'scalar, axis -1 keepdims', [torch.tensor(-0.5)], [R(0), -1, True], fn)
    c.add(name, 'no axes ([])', [mk(2, 3)], [R(0), [], False], lambda x, a, k: x.clone())
    special = torch.tensor([[NAN, 1.0, 2.0], [INF, 1.0, 2.0], [-INF, -INF, -INF], [INF, -INF, 0.0], [INF, INF, 1.0], [0.0, -0.0, 0.0]])
    for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
        c.add(name, f'{dn} NaN/±Inf rows', [special.to(dtype)], [R(0), 1, False], fn)
    # Zero-size inputs: reducing an empty axis needs an identity; keeping it empty does not.
    c.add(name, 'zero-size [0,3] over the non-empty axis', [torch.zeros(0, 3)], [R(0), 1, False], fn)
    c.add(name, 'zero-size [3,0] over the non-empty axis keepdims', [torch.zeros(3, 0)], [R(0), 0, True], fn)
    if name in HAS_IDENTITY:
        c.add(name, 'zero-size [0,3] over the empty axis', [torch.zeros(0, 3)], [R(0), 0, False], fn)
        c.add(name, 'zero-size [2,0] all axes', [torch.zeros(2, 0, dtype=torch.float64)], [R(0), None, False], fn)
        c.add(name, 'zero-size [2,0] axis -1 keepdims', [torch.zeros(2, 0)], [R(0), -1, True], fn)
    if name not in FLOAT_ONLY:
        xi = torch.tensor([[3, -1, 4, 1], [-5, 9, 2, -6], [5, 3, -5, 8]], dtype=torch.int32)
        c.add(name, 'int32 axis 1', [xi], [R(0), 1, False], fn)
        c.add(name, 'int32 all', [xi], [R(0), None, False], fn)
        xb = torch.tensor([[True, False, True], [True, True, True]])
        c.add(name, 'bool axis 1', [xb], [R(0), 1, False], fn)
        c.add(name, 'bool all keepdims', [xb], [R(0), None, True], fn)

c.add('logsumexp', 'large values stay finite', [torch.tensor([[1000.0, 1000.0], [-1000.0, -999.0]])], [R(0), 1, False], REDUCE['logsumexp'])
c.add('sum', 'int32 zero-size over the empty axis', [torch.zeros(0, 3, dtype=torch.int32)], [R(0), 0, False], REDUCE['sum'])
c.add('prod', 'int32 zero-size over the empty axis', [torch.zeros(0, 3, dtype=torch.int32)], [R(0), 0, False], REDUCE['prod'])


def argfn(fn):
    return lambda x, a, k: fn(x, a, keepdim=k)


for name, fn in {'argmax': torch.argmax, 'argmin': torch.argmin}.items():
    f = argfn(fn)
    x = randn(3, 4, 5, g=g)
    for axis, keepdims in [(None, False), (None, True), (1, False), (-1, True), (0, False), (-3, True)]:
        c.add(name, f'f32 [3,4,5] axis {axis} keepdims {keepdims}', [x], [R(0), axis, keepdims], f)
    c.add(name, 'f64 [4,6] axis 1', [randn(4, 6, dtype=torch.float64, g=g)], [R(0), 1, False], f)
    ties = torch.tensor([[1, 3, 3, 0], [2, 2, 1, 1], [0, 0, 0, 0]], dtype=torch.int32)
    c.add(name, 'int32 ties pick the first', [ties], [R(0), 1, False], f)
    c.add(name, 'int32 ties, flattened', [ties], [R(0), None, False], f)
    c.add(name, 'f32 ties along axis 0', [ties.float()], [R(0), 0, False], f)
    special = torch.tensor([[1.0, NAN, 3.0, NAN], [INF, 1.0, INF, 0.0], [-INF, -INF, -INF, -INF], [NAN, 2.0, -INF, 1.0], [0.0, -0.0, -0.0, 0.0]])
    for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
        c.add(name, f'{dn} NaN/±Inf rows', [special.to(dtype)], [R(0), 1, False], f)
        c.add(name, f'{dn} NaN/±Inf columns', [special.to(dtype)], [R(0), 0, True], f)
    c.add(name, 'NaN in the flattened tensor', [special], [R(0), None, False], f)
    c.add(name, 'zero-size [0,3] axis 1', [torch.zeros(0, 3)], [R(0), 1, False], f)
    c.add(name, 'zero-size [3,0] axis 0 keepdims', [torch.zeros(3, 0)], [R(0), 0, True], f)
    c.add(name, 'scalar, axis None', [torch.tensor(2.5)], [R(0), None, False], f)
    c.add(name, 'scalar, axis 0 keepdims', [torch.tensor(2.5)], [R(0), 0, True], f)
    c.add(name, 'non-contiguous [4,3]ᵀ axis 1', [randn(4, 3, g=g)], [R(0, [1, 0]), 1, False], f)
    c.add(name, 'non-contiguous, flattened', [randn(4, 3, g=g)], [R(0, [1, 0]), None, False], f)


def var(x, a, corr, k):
    return torch.var(x, dims(x, a) if a is not None else None, correction=corr, keepdim=k)


x = randn(3, 4, 5, g=g) * 2 + 1
for axis, corr, keepdims in [(None, 1, False), (1, 1, False), (-1, 0, True), ([0, 2], 1, True), ([-1, 0], 2, False), (None, 0, True)]:
    c.add('var', f'f32 [3,4,5] axis {axis} correction {corr} keepdims {keepdims}', [x], [R(0), axis, corr, keepdims], var)
c.add('var', 'f64 [5,7] axis 0', [randn(5, 7, dtype=torch.float64, g=g)], [R(0), 0, 1, False], var)
c.add('var', 'f64 [5,7] all, correction 0', [randn(5, 7, dtype=torch.float64, g=g)], [R(0), None, 0, False], var)
c.add('var', 'f32 [2,300] axis 1 (long rows, offset)', [randn(2, 300, g=g) + 100], [R(0), 1, 1, False], var)
c.add('var', 'N - correction = 0 gives NaN/inf', [torch.tensor([[1.0, 2.0], [3.0, 3.0]])], [R(0), 1, 2, False], var)
c.add('var', 'N - correction < 0 clamps to 0', [torch.tensor([1.0, 2.0])], [R(0), 0, 3, False], var)
c.add('var', 'negative correction', [torch.tensor([1.0, 2.0, 4.0])], [R(0), 0, -1, False], var)
c.add('var', 'single element, default correction is NaN', [torch.tensor([[1.5], [2.0]])], [R(0), 1, 1, False], var)
special = torch.tensor([[NAN, 1.0, 2.0], [INF, 1.0, 2.0], [-INF, -INF, -INF], [1.0, 1.0, 1.0]])
c.add('var', 'f32 NaN/±Inf rows', [special], [R(0), 1, 1, False], var)
c.add('var', 'f64 NaN/±Inf rows', [special.double()], [R(0), 1, 0, False], var)
c.add('var', 'zero-size [0,3] over the empty axis', [torch.zeros(0, 3)], [R(0), 0, 1, False], var)
c.add('var', 'zero-size [0,3] over the non-empty axis', [torch.zeros(0, 3)], [R(0), 1, 1, True], var)
c.add('var', 'scalar, correction 0', [torch.tensor(3.0)], [R(0), None, 0, False], var)
c.add('var', 'scalar, default correction', [torch.tensor(3.0)], [R(0), None, 1, False], var)
c.add('var', 'non-contiguous [4,3]ᵀ axis 1', [randn(4, 3, g=g)], [R(0, [1, 0]), 1, 1, False], var)

cumsum = torch.cumsum
for axis in [0, 1, -1]:
    c.add('cumsum', f'f32 [3,4] axis {axis}', [randn(3, 4, g=g)], [R(0), axis], cumsum)
c.add('cumsum', 'f64 [2,3,4] axis 1', [randn(2, 3, 4, dtype=torch.float64, g=g)], [R(0), 1], cumsum)
c.add('cumsum', 'f64 [2,3,4] axis -3', [randn(2, 3, 4, dtype=torch.float64, g=g)], [R(0), -3], cumsum)
c.add('cumsum', 'f32 [500] long', [randn(500, g=g)], [R(0), 0], cumsum)
c.add('cumsum', 'int32 [3,4] axis 1 stays int32', [torch.tensor([[3, -1, 4, 1], [-5, 9, 2, -6], [5, 3, -5, 8]], dtype=torch.int32)], [R(0), 1], cumsum)
c.add('cumsum', 'bool gives int32', [torch.tensor([[True, False, True], [True, True, True]])], [R(0), 1], cumsum)
special = torch.tensor([[1.0, INF, -INF, 2.0], [NAN, 1.0, 2.0, 3.0], [-INF, 1.0, -INF, 0.0]])
c.add('cumsum', 'f32 NaN/±Inf', [special], [R(0), 1], cumsum)
c.add('cumsum', 'f64 NaN/±Inf along axis 0', [special.double()], [R(0), 0], cumsum)
c.add('cumsum', 'zero-size [0,3] axis 0', [torch.zeros(0, 3)], [R(0), 0], cumsum)
c.add('cumsum', 'zero-size [0,3] axis 1', [torch.zeros(0, 3)], [R(0), 1], cumsum)
c.add('cumsum', 'scalar axis 0', [torch.tensor(1.5)], [R(0), 0], cumsum)
c.add('cumsum', 'non-contiguous [4,3]ᵀ axis 1', [randn(4, 3, g=g)], [R(0, [1, 0]), 1], cumsum)

write('reduce', c)
