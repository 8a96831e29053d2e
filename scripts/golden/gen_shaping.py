"""Golden values for the shape, slicing and index ops (group 'shaping').

Index tensors are built as int64 (what PyTorch's index ops take) and reach Kiln as int32.
slice follows NumPy basic indexing (PyTorch has no negative steps), so its reference is NumPy.
"""
import numpy as np
import torch
import torch.nn.functional as F
from golden import Cases, R, randn, special, write

g = torch.Generator().manual_seed(7)
c = Cases()
FLOATS = [(torch.float32, 'f32'), (torch.float64, 'f64')]


def ar(*shape, dtype=torch.float32):
    """0, 1, 2, … in `shape`: easy to read in a failing diff."""
    n = 1
    for d in shape:
        n *= d
    return torch.arange(n, dtype=torch.float64).reshape(*shape).to(dtype)


def idx(values):
    return torch.tensor(values, dtype=torch.int64)


def ints(*shape):
    return (randn(*shape, g=g) * 10).to(torch.int32)


def bools(*shape):
    return randn(*shape, g=g) > 0


# --- reshape, permute, transpose -----------------------------------------------------------
c.add('reshape', 'f32 [2,3] → [3,-1]', [ar(2, 3)], [R(0), [3, -1]], torch.reshape)
c.add('reshape', 'non-contiguous [3,2]ᵀ → [6]', [ar(3, 2)], [R(0, [1, 0]), [6]], torch.reshape)
c.add('reshape', 'zero-size [0,3] → [3,0]', [torch.zeros(0, 3)], [R(0), [3, 0]], torch.reshape)
c.add('reshape', 'scalar → [1,1]', [torch.tensor(2.5)], [R(0), [1, 1]], torch.reshape)
c.add('permute', 'f32 [2,3,4] → (2,0,1)', [ar(2, 3, 4)], [R(0), [2, 0, 1]], torch.permute)
c.add('permute', 'negative axes', [ar(2, 3, 4)], [R(0), [-1, 0, -2]], torch.permute)
c.add('permute', 'int32', [ints(3, 4)], [R(0), [1, 0]], torch.permute)
c.add('permute', 'zero-size', [torch.zeros(2, 0, 3)], [R(0), [1, 2, 0]], torch.permute)

c.add('transpose', 'default: last two axes', [ar(2, 3, 4)], [R(0)], lambda t: t.transpose(-2, -1))
c.add('transpose', 'axes 0 and 2', [ar(2, 3, 4)], [R(0), 0, 2], torch.transpose)
c.add('transpose', 'negative axes', [ar(2, 3, 4)], [R(0), -3, -2], torch.transpose)
c.add('transpose', 'same axis is identity', [ar(2, 3)], [R(0), 1, -1], torch.transpose)
c.add('transpose', 'f64 non-contiguous', [ar(4, 3, dtype=torch.float64)], [R(0, [1, 0])], lambda t: t.transpose(-2, -1))
c.add('transpose', 'int32', [ints(2, 5)], [R(0)], lambda t: t.transpose(-2, -1))
c.add('transpose', 'bool', [bools(3, 2)], [R(0)], lambda t: t.transpose(-2, -1))
c.add('transpose', 'zero-size', [torch.zeros(0, 3)], [R(0)], lambda t: t.transpose(-2, -1))
c.add('transpose', 'scalar with axes 0, -1', [torch.tensor(3.0)], [R(0), 0, -1], torch.transpose)
c.add('transpose', '1-D with axes 0, -1', [ar(3)], [R(0), 0, -1], torch.transpose)

# --- broadcastTo ---------------------------------------------------------------------------
c.add('broadcastTo', '[3,1] → [2,3,4]', [ar(3, 1)], [R(0), [2, 3, 4]], torch.broadcast_to)
c.add('broadcastTo', '-1 keeps a dimension', [ar(3, 1)], [R(0), [2, -1, 4]], torch.broadcast_to)
c.add('broadcastTo', 'scalar → [2,2]', [torch.tensor(1.5)], [R(0), [2, 2]], torch.broadcast_to)
c.add('broadcastTo', 'to a zero-size dimension', [ar(1, 2)], [R(0), [0, 2]], torch.broadcast_to)
c.add('broadcastTo', 'same shape', [ar(2, 2)], [R(0), [2, 2]], torch.broadcast_to)
c.add('broadcastTo', 'f64 non-contiguous [3,1]ᵀ', [ar(3, 1, dtype=torch.float64)], [R(0, [1, 0]), [2, 1, 3]], torch.broadcast_to)
c.add('broadcastTo', 'int32', [ints(1, 3)], [R(0), [2, 3]], torch.broadcast_to)
c.add('broadcastTo', 'bool', [bools(2, 1)], [R(0), [2, 4]], torch.broadcast_to)
c.add('broadcastTo', 'special values', [special().reshape(13, 1)], [R(0), [13, 2]], torch.broadcast_to)

# --- squeeze, unsqueeze, flatten -----------------------------------------------------------
c.add('squeeze', 'all size-1 dims', [ar(1, 3, 1, 2)], [R(0)], torch.squeeze)
c.add('squeeze', 'axis 0', [ar(1, 3, 1)], [R(0), 0], torch.squeeze)
c.add('squeeze', 'axis -1', [ar(1, 3, 1)], [R(0), -1], torch.squeeze)
c.add('squeeze', 'non-1 axis is a no-op', [ar(2, 3)], [R(0), 1], torch.squeeze)
c.add('squeeze', 'list of axes [0,-1]', [ar(1, 3, 1)], [R(0), [0, -1]], lambda t, a: t.squeeze(2).squeeze(0))
c.add('squeeze', 'scalar', [torch.tensor(4.0)], [R(0)], torch.squeeze)
c.add('squeeze', 'zero-size [0,1,3]', [torch.zeros(0, 1, 3)], [R(0)], torch.squeeze)
c.add('squeeze', 'int32 non-contiguous', [ints(3, 1)], [R(0, [1, 0]), 0], torch.squeeze)
c.add('unsqueeze', 'axis 0', [ar(2, 3)], [R(0), 0], torch.unsqueeze)
c.add('unsqueeze', 'axis -1', [ar(2, 3)], [R(0), -1], torch.unsqueeze)
c.add('unsqueeze', 'middle', [ar(2, 3, dtype=torch.float64)], [R(0), 1], torch.unsqueeze)
c.add('unsqueeze', 'scalar', [torch.tensor(1.0)], [R(0), 0], torch.unsqueeze)
c.add('unsqueeze', 'zero-size bool', [torch.zeros(0, 2, dtype=torch.bool)], [R(0), -2], torch.unsqueeze)
c.add('flatten', 'default: all axes', [ar(2, 3, 4)], [R(0)], torch.flatten)
c.add('flatten', 'from axis 1', [ar(2, 3, 4)], [R(0), 1], torch.flatten)
c.add('flatten', 'axes 0..1', [ar(2, 3, 4)], [R(0), 0, 1], torch.flatten)
c.add('flatten', 'negative axes', [ar(2, 3, 4, 5)], [R(0), -3, -2], torch.flatten)
c.add('flatten', 'scalar → [1]', [torch.tensor(2.0)], [R(0)], torch.flatten)
c.add('flatten', 'zero-size', [torch.zeros(2, 0, 3)], [R(0), 1], torch.flatten)
c.add('flatten', 'int32 non-contiguous', [ints(3, 4)], [R(0, [1, 0])], torch.flatten)

# --- concat, stack, split ------------------------------------------------------------------
c.add('concat', 'axis 0', [ar(2, 3), randn(1, 3, g=g)], [[R(0), R(1)]], torch.cat)
c.add('concat', 'axis 1, three inputs', [ar(2, 1), randn(2, 3, g=g), randn(2, 2, g=g)], [[R(0), R(1), R(2)], 1], torch.cat)
c.add('concat', 'axis -1, 3-D', [ar(2, 2, 1), ar(2, 2, 3)], [[R(0), R(1)], -1], torch.cat)
c.add('concat', 'int32 + float32 promotes', [ints(2), randn(3, g=g)], [[R(0), R(1)]], torch.cat)
c.add('concat', 'bool + int32 promotes', [bools(2), ints(2)], [[R(0), R(1)]], torch.cat)
c.add('concat', 'f64', [ar(1, 2, dtype=torch.float64), ar(2, 2, dtype=torch.float64)], [[R(0), R(1)], 0], torch.cat)
c.add('concat', 'zero-size pieces', [torch.zeros(2, 0), ar(2, 3), torch.zeros(2, 0)], [[R(0), R(1), R(2)], 1], torch.cat)
c.add('concat', 'all empty', [torch.zeros(0, 3), torch.zeros(0, 3)], [[R(0), R(1)], 0], torch.cat)
c.add('concat', 'non-contiguous', [ar(3, 2), ar(2, 2)], [[R(0, [1, 0]), R(1)], 1], torch.cat)
c.add('concat', 'one tensor', [ar(2, 2)], [[R(0)], 1], torch.cat)
c.add('concat', 'special values', [special(), special().flip(0)], [[R(0), R(1)]], torch.cat)
c.add('stack', 'axis 0', [ar(2, 3), randn(2, 3, g=g)], [[R(0), R(1)]], torch.stack)
c.add('stack', 'axis 1', [ar(2, 3), randn(2, 3, g=g), ar(2, 3)], [[R(0), R(1), R(2)], 1], torch.stack)
c.add('stack', 'axis -1 (new last)', [ar(2, 3), ar(2, 3)], [[R(0), R(1)], -1], torch.stack)
c.add('stack', 'scalars', [torch.tensor(1.0), torch.tensor(2.0)], [[R(0), R(1)]], torch.stack)
c.add('stack', 'int32 + f64 promotes', [ints(3), randn(3, dtype=torch.float64, g=g)], [[R(0), R(1)]], torch.stack)
c.add('stack', 'zero-size', [torch.zeros(0, 2), torch.zeros(0, 2)], [[R(0), R(1)], 1], torch.stack)
c.add('stack', 'non-contiguous', [ar(3, 2), ar(2, 3)], [[R(0, [1, 0]), R(1)], 0], torch.stack)
c.add('split', 'chunks of 2 along axis 0', [ar(5, 2)], [R(0), 2], torch.split)
c.add('split', 'chunks along axis 1', [ar(2, 7)], [R(0), 3, 1], torch.split)
c.add('split', 'chunk larger than the axis', [ar(3, 2)], [R(0), 5], torch.split)
c.add('split', 'sections', [ar(6, 2)], [R(0), [1, 3, 2]], torch.split)
c.add('split', 'sections with a zero', [ar(3, 2)], [R(0), [0, 3, 0], 0], torch.split)
c.add('split', 'axis -1', [ar(2, 4, dtype=torch.float64)], [R(0), [3, 1], -1], torch.split)
c.add('split', 'zero-size axis', [torch.zeros(0, 2)], [R(0), 2], torch.split)
c.add('split', 'int32', [ints(4, 3)], [R(0), 2, 0], torch.split)
c.add('split', 'non-contiguous', [ar(3, 4)], [R(0, [1, 0]), 3], torch.split)


# --- slice (NumPy reference: PyTorch forbids negative steps) --------------------------------
def numpy_slice(t, specs):
    key = tuple(slice(None) if s is None else s if isinstance(s, int) else slice(*s) for s in specs)
    return torch.from_numpy(np.array(t.numpy()[key], copy=True))


for spec, name in [
    ([[1, 3]], 'start:end'),
    ([[None, None, 2]], '::2'),
    ([[None, None, -1]], '::-1'),
    ([[-2, None]], '-2:'),
    ([[None, -1]], ':-1'),
    ([[4, 0, -2]], '4:0:-2'),
    ([[-10, 10]], 'out-of-range bounds clamp'),
    ([[10, -10, -3]], 'negative step clamps'),
    ([[3, 1]], 'empty (end before start)'),
    ([[1, 1, -1]], 'empty with negative step'),
    ([1], 'index drops the axis'),
    ([-1, [None, None, -2]], 'index -1, then ::-2'),
    ([None, [1, None, 2]], 'null keeps the axis'),
    ([[None, None, -1], 2], 'reverse rows, pick a column'),
    ([2, -3], 'both axes indexed → scalar'),
    ([], 'no specs: whole tensor'),
]:
    c.add('slice', f'[5,4] {name}', [ar(5, 4)], [R(0), spec], numpy_slice)
c.add('slice', '3-D, trailing axes kept', [ar(3, 4, 5)], [R(0), [None, [None, None, 3]]], numpy_slice)
c.add('slice', '3-D, negative steps everywhere', [ar(3, 4, 5)], [R(0), [[None, None, -1], [None, None, -2], [-1, 0, -3]]], numpy_slice)
c.add('slice', 'f64', [ar(6, dtype=torch.float64)], [R(0), [[1, None, 2]]], numpy_slice)
c.add('slice', 'int32', [ints(4, 3)], [R(0), [[None, None, -1], [0, 2]]], numpy_slice)
c.add('slice', 'bool', [bools(5)], [R(0), [[4, None, -2]]], numpy_slice)
c.add('slice', 'special values', [special()], [R(0), [[None, None, -3]]], numpy_slice)
c.add('slice', 'zero-size axis', [torch.zeros(0, 3)], [R(0), [[None, None, -1], [1, None]]], numpy_slice)
c.add('slice', 'non-contiguous', [ar(4, 3)], [R(0, [1, 0]), [[None, None, -1], [1, 3]]], numpy_slice)

# --- pad, flip -----------------------------------------------------------------------------
def pad(t, padding, value=0):
    return F.pad(t, padding, value=value)


c.add('pad', 'last axis (1, 2)', [ar(2, 3)], [R(0), [1, 2]], pad)
c.add('pad', 'two axes', [ar(2, 3)], [R(0), [1, 0, 0, 2]], pad)
c.add('pad', 'first of three axes only', [ar(2, 2, 2)], [R(0), [0, 0, 0, 0, 1, 1]], pad)
c.add('pad', 'negative crops', [ar(3, 4)], [R(0), [-1, 0, -1, -1]], pad)
c.add('pad', 'crop one side, pad the other', [ar(2, 4)], [R(0), [-2, 3]], pad)
c.add('pad', 'crop to zero size', [ar(2, 3)], [R(0), [-3, 0]], pad)
c.add('pad', 'value 3.5', [ar(2, 2)], [R(0), [1, 1], 3.5], pad)
c.add('pad', 'value NaN', [ar(2)], [R(0), [1, 1], float('nan')], pad)
c.add('pad', 'value -Inf, f64', [ar(2, dtype=torch.float64)], [R(0), [2, 0], float('-inf')], pad)
c.add('pad', 'int32, value 2.7 truncates', [ints(3)], [R(0), [1, 1], 2.7], pad)
c.add('pad', 'int32, value -2.7 truncates', [ints(3)], [R(0), [1, 1], -2.7], pad)
c.add('pad', 'bool', [bools(3)], [R(0), [1, 2], 1], pad)
c.add('pad', 'zero-size axis grows', [torch.zeros(0, 3)], [R(0), [0, 0, 1, 1], 5], pad)
c.add('pad', 'zeros everywhere is identity', [ar(2, 3)], [R(0), [0, 0]], pad)
c.add('pad', 'non-contiguous', [ar(3, 2)], [R(0, [1, 0]), [1, 1, 1, 0]], pad)
c.add('pad', 'special values', [special()], [R(0), [2, -3]], pad)
c.add('flip', 'axis 0', [ar(3, 4)], [R(0), [0]], torch.flip, kiln_args=[R(0), 0])
c.add('flip', 'axes [0, 1]', [ar(3, 4)], [R(0), [0, 1]], torch.flip)
c.add('flip', 'axis -1 of 3-D', [ar(2, 3, 4)], [R(0), [-1]], torch.flip)
c.add('flip', 'no axes', [ar(2, 3)], [R(0), []], torch.flip)
c.add('flip', 'f64 special', [special(torch.float64)], [R(0), [0]], torch.flip)
c.add('flip', 'int32', [ints(4, 2)], [R(0), [0, 1]], torch.flip)
c.add('flip', 'bool', [bools(5)], [R(0), [0]], torch.flip)
c.add('flip', 'zero-size', [torch.zeros(0, 3)], [R(0), [0, 1]], torch.flip)
c.add('flip', 'non-contiguous', [ar(3, 4)], [R(0, [1, 0]), [1]], torch.flip)

# --- gather, take, indexSelect, scatterAdd -------------------------------------------------
x34 = ar(3, 4)
c.add('gather', 'axis 1', [x34, idx([[0, 3], [1, 1], [2, 0]])], [R(0), 1, R(1)], torch.gather)
c.add('gather', 'axis 0, repeats', [x34, idx([[2, 0, 1, 2], [0, 0, 0, 0]])], [R(0), 0, R(1)], torch.gather)
c.add('gather', 'axis -1, index smaller on other axes', [x34, idx([[3], [0]])], [R(0), -1, R(1)], torch.gather)
c.add('gather', 'index larger along the axis', [ar(2, 2), idx([[0, 1, 1, 0, 1]] * 2)], [R(0), 1, R(1)], torch.gather)
c.add('gather', '3-D axis 1', [ar(2, 3, 2), idx([[[2, 0]], [[1, 1]]])], [R(0), 1, R(1)], torch.gather)
for dtype, dn in FLOATS:
    c.add('gather', f'{dn} random', [randn(4, 5, dtype=dtype, g=g), torch.randint(0, 5, (4, 3), generator=g)], [R(0), 1, R(1)], torch.gather)
c.add('gather', 'int32', [ints(3, 3), idx([[1], [2], [0]])], [R(0), 1, R(1)], torch.gather)
c.add('gather', 'bool', [bools(2, 3), idx([[2, 2], [0, 1]])], [R(0), 1, R(1)], torch.gather)
c.add('gather', 'special values', [special(), idx([0, 1, 2, 4, 0])], [R(0), 0, R(1)], torch.gather)
c.add('gather', 'zero-size index', [x34, torch.zeros(3, 0, dtype=torch.int64)], [R(0), 1, R(1)], torch.gather)
c.add('gather', 'non-contiguous x', [ar(4, 3), idx([[3, 0], [1, 2], [0, 0]])], [R(0, [1, 0]), 1, R(1)], torch.gather)
c.add('take', 'flat indices', [x34, idx([0, 5, 11, 5])], [R(0), R(1)], torch.take)
c.add('take', 'negative indices count from the end', [x34, idx([-1, -12, 3])], [R(0), R(1)], torch.take)
c.add('take', '2-D index', [ar(2, 3, dtype=torch.float64), idx([[0, 1], [5, -2]])], [R(0), R(1)], torch.take)
c.add('take', 'scalar index', [ar(4), torch.tensor(2)], [R(0), R(1)], torch.take)
c.add('take', 'zero-size index', [x34, torch.zeros(0, dtype=torch.int64)], [R(0), R(1)], torch.take)
c.add('take', 'non-contiguous x: logical order', [ar(3, 2), idx([0, 1, 2, 3])], [R(0, [1, 0]), R(1)], torch.take)
c.add('take', 'int32', [ints(5), idx([4, 0, -5])], [R(0), R(1)], torch.take)
c.add('take', 'bool', [bools(4), idx([3, 2])], [R(0), R(1)], torch.take)
c.add('indexSelect', 'axis 0 (embedding lookup)', [ar(5, 3), idx([4, 0, 4, 2])], [R(0), 0, R(1)], torch.index_select)
c.add('indexSelect', 'axis 1', [x34, idx([3, 1])], [R(0), 1, R(1)], torch.index_select)
c.add('indexSelect', 'axis -2 of 3-D', [ar(2, 3, 2), idx([2, 2, 0])], [R(0), -2, R(1)], torch.index_select)
c.add('indexSelect', 'scalar index keeps the axis', [x34, torch.tensor(1)], [R(0), 1, R(1)], torch.index_select)
c.add('indexSelect', 'empty index', [x34, torch.zeros(0, dtype=torch.int64)], [R(0), 0, R(1)], torch.index_select)
c.add('indexSelect', 'f64', [ar(3, 3, dtype=torch.float64), idx([1])], [R(0), 0, R(1)], torch.index_select)
c.add('indexSelect', 'int32', [ints(4), idx([3, 3, 0])], [R(0), 0, R(1)], torch.index_select)
c.add('indexSelect', 'bool', [bools(2, 3), idx([2, 0])], [R(0), 1, R(1)], torch.index_select)
c.add('indexSelect', 'special values', [special(), idx([0, 1, 2])], [R(0), 0, R(1)], torch.index_select)
c.add('indexSelect', 'non-contiguous x', [ar(4, 3), idx([0, 3])], [R(0, [1, 0]), 1, R(1)], torch.index_select)


def scatter_add(x, axis, index, src):
    return torch.scatter_add(x, axis, index, src)


c.add('scatterAdd', '1-D, repeats accumulate', [torch.zeros(4), idx([0, 2, 0, 3, 0]), ar(5)], [R(0), 0, R(1), R(2)], scatter_add)
c.add('scatterAdd', 'axis 0', [torch.ones(3, 4), idx([[0, 1, 2, 0], [2, 2, 2, 2]]), ar(2, 4)], [R(0), 0, R(1), R(2)], scatter_add)
c.add('scatterAdd', 'axis -1, index smaller than src', [torch.zeros(2, 3), idx([[2, 2], [0, 1]]), ar(2, 4)], [R(0), -1, R(1), R(2)], scatter_add)
c.add('scatterAdd', 'index longer than x along the axis', [torch.zeros(2, 2), idx([[0], [1], [0]]), ar(3, 1)], [R(0), 0, R(1), R(2)], scatter_add)
for dtype, dn in FLOATS:
    c.add('scatterAdd', f'{dn} random', [randn(3, 5, dtype=dtype, g=g), torch.randint(0, 5, (3, 6), generator=g), randn(3, 6, dtype=dtype, g=g)], [R(0), 1, R(1), R(2)], scatter_add)
c.add('scatterAdd', 'int32', [ints(4), idx([1, 1, 3]), ints(3)], [R(0), 0, R(1), R(2)], scatter_add)
c.add('scatterAdd', 'special values in src', [torch.zeros(3), idx([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]), special()], [R(0), 0, R(1), R(2)], scatter_add)
c.add('scatterAdd', 'zero-size index', [ar(2, 3), torch.zeros(2, 0, dtype=torch.int64), torch.zeros(2, 0)], [R(0), 1, R(1), R(2)], scatter_add)
c.add('scatterAdd', 'non-contiguous x and src', [ar(3, 2), idx([[0, 1, 0], [2, 2, 2]]), ar(3, 2)], [R(0, [1, 0]), 1, R(1), R(2, [1, 0])], scatter_add)

# --- oneHot, tril, triu --------------------------------------------------------------------
c.add('oneHot', '1-D', [idx([0, 2, 1, 2])], [R(0), 3], F.one_hot)
c.add('oneHot', '2-D index', [idx([[0, 4], [3, 1]])], [R(0), 5], F.one_hot)
c.add('oneHot', 'one class', [idx([0, 0])], [R(0), 1], F.one_hot)
c.add('oneHot', 'scalar index', [torch.tensor(1)], [R(0), 2], F.one_hot)
c.add('oneHot', 'zero-size index', [torch.zeros(0, dtype=torch.int64)], [R(0), 3], F.one_hot)
for name, fn in [('tril', torch.tril), ('triu', torch.triu)]:
    c.add(name, 'square', [ar(4, 4) + 1], [R(0)], fn)
    c.add(name, 'wide, diagonal 1', [ar(3, 5) + 1], [R(0), 1], fn)
    c.add(name, 'tall, diagonal -1', [ar(5, 3) + 1], [R(0), -1], fn)
    c.add(name, 'diagonal beyond the matrix', [ar(3, 3) + 1], [R(0), 7], fn)
    c.add(name, 'diagonal far below', [ar(3, 3) + 1], [R(0), -7], fn)
    c.add(name, 'batched 3-D', [randn(2, 3, 3, g=g)], [R(0)], fn)
    c.add(name, 'f64', [randn(3, 2, dtype=torch.float64, g=g)], [R(0), 1], fn)
    c.add(name, 'int32', [ints(3, 4)], [R(0)], fn)
    c.add(name, 'bool', [bools(3, 3)], [R(0)], fn)
    c.add(name, 'masked NaN and Inf become 0', [special()[:12].reshape(3, 4)], [R(0)], fn)
    c.add(name, 'zero-size', [torch.zeros(2, 0, 3)], [R(0)], fn)
    c.add(name, 'non-contiguous', [ar(4, 3) + 1], [R(0, [1, 0])], fn)

write('shaping', c)
