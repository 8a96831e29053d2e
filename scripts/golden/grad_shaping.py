"""Gradient cases for the shape, slicing and index ops (used by gen_grad.py)."""
import torch
import torch.nn.functional as F
from golden import R
from grad_cases import idx, rn


def numpy_slice(x, specs):
    """NumPy basic indexing (negative steps too, which PyTorch's slicing lacks) with index_select."""
    out, drop = x, []
    for axis, s in enumerate(specs):
        n = x.shape[axis]
        if s is None:
            continue
        if isinstance(s, int):
            positions = [s % n]
            drop.append(axis)
        else:
            positions = list(range(*slice(*s).indices(n)))
        out = out.index_select(axis, idx(positions))
    return out.reshape([d for i, d in enumerate(out.shape) if i not in drop]) if drop else out


def add_cases(c):
    c.add('reshape', '[2,3] → [3,-1]', [rn(2, 3)], [R(0), [3, -1]], torch.reshape)
    c.add('reshape', 'non-contiguous [3,4]ᵀ → [2,6]', [rn(3, 4)], [R(0, [1, 0]), [2, 6]], torch.reshape)
    c.add('reshape', 'scalar → [1,1]', [rn()], [R(0), [1, 1]], torch.reshape)
    c.add('permute', '[2,3,4] → (2,0,1)', [rn(2, 3, 4)], [R(0), [2, 0, 1]], torch.permute)
    c.add('permute', 'negative axes', [rn(2, 3, 4)], [R(0), [-1, 0, -2]], torch.permute)
    c.add('transpose', 'default: last two axes', [rn(2, 3, 4)], [R(0)], lambda x: x.transpose(-2, -1))
    c.add('transpose', 'axes 0 and -1', [rn(2, 3, 4)], [R(0), 0, -1], torch.transpose)
    c.add('broadcastTo', '[3,1] → [2,3,4]', [rn(3, 1)], [R(0), [2, 3, 4]], torch.broadcast_to)
    c.add('broadcastTo', '-1 keeps a dimension', [rn(1, 3)], [R(0), [4, -1]], torch.broadcast_to)
    c.add('broadcastTo', 'scalar → [2,2]', [rn()], [R(0), [2, 2]], torch.broadcast_to)
    c.add('squeeze', 'all size-1 axes', [rn(1, 3, 1, 2)], [R(0)], torch.squeeze)
    c.add('squeeze', 'axis -1', [rn(1, 3, 1)], [R(0), -1], torch.squeeze)
    c.add('unsqueeze', 'axis 1', [rn(2, 3)], [R(0), 1], torch.unsqueeze)
    c.add('unsqueeze', 'axis -1', [rn(2, 3)], [R(0), -1], torch.unsqueeze)
    c.add('flatten', 'all axes', [rn(2, 3, 4)], [R(0)], torch.flatten)
    c.add('flatten', 'axes -3..-2', [rn(2, 3, 4, 2)], [R(0), -3, -2], torch.flatten)

    c.add('concat', 'axis 0', [rn(2, 3), rn(1, 3)], [[R(0), R(1)]], torch.cat)
    c.add('concat', 'axis -1, three inputs', [rn(2, 1), rn(2, 3), rn(2, 2)], [[R(0), R(1), R(2)], -1], torch.cat)
    c.add('concat', 'non-contiguous', [rn(3, 2), rn(2, 2)], [[R(0, [1, 0]), R(1)], 1], torch.cat)
    c.add('concat', 'float32 with float64 promotes', [rn(2, 2).float(), rn(1, 2)], [[R(0), R(1)]], torch.cat, as_is=True)
    c.add('stack', 'axis 0', [rn(2, 3), rn(2, 3)], [[R(0), R(1)]], torch.stack)
    c.add('stack', 'axis -1, three inputs', [rn(2, 3), rn(2, 3), rn(2, 3)], [[R(0), R(1), R(2)], -1], torch.stack)
    c.add('split', 'chunks of 2 (last smaller)', [rn(5, 2)], [R(0), 2], torch.split)
    c.add('split', 'sections along axis -1', [rn(2, 6)], [R(0), [1, 3, 2], -1], torch.split)

    for spec, name in [
        ([[1, 4]], 'start:end'),
        ([[None, None, 2]], '::2'),
        ([[None, None, -1]], '::-1'),
        ([[4, 0, -2]], '4:0:-2'),
        ([[-2, None]], '-2:'),
        ([1, [None, None, -2]], 'index drops the axis, then ::-2'),
        ([None, [1, None, 2]], 'null keeps the axis, then 1::2'),
        ([2, -1], 'both axes indexed → scalar'),
    ]:
        c.add('slice', f'[5,4] {name}', [rn(5, 4)], [R(0), spec], numpy_slice)
    c.add('slice', '3-D, steps on every axis', [rn(3, 4, 5)], [R(0), [[None, None, -1], [None, None, 2], [4, 0, -3]]], numpy_slice)

    def pad(x, padding, value=0.0):
        return F.pad(x, padding, value=value)

    c.add('pad', 'last axis (1, 2)', [rn(2, 3)], [R(0), [1, 2]], pad)
    c.add('pad', 'two axes, value 3.5', [rn(2, 3)], [R(0), [1, 0, 0, 2], 3.5], pad)
    c.add('pad', 'negative crops', [rn(3, 4)], [R(0), [-1, 0, -1, -1]], pad)
    c.add('pad', 'crop one side, pad the other', [rn(2, 4)], [R(0), [-2, 3]], pad)
    c.add('flip', 'axis 0', [rn(3, 4)], [R(0), [0]], torch.flip, kiln_args=[R(0), 0])
    c.add('flip', 'axes [0, -1] of 3-D', [rn(2, 3, 4)], [R(0), [0, -1]], torch.flip)
    for name, fn in [('tril', torch.tril), ('triu', torch.triu)]:
        c.add(name, 'square', [rn(4, 4)], [R(0)], fn)
        c.add(name, 'wide, diagonal 1', [rn(3, 5)], [R(0), 1], fn)
        c.add(name, 'batched, diagonal -1', [rn(2, 3, 3)], [R(0), -1], fn)

    c.add('gather', 'axis 1', [rn(3, 4), idx([[0, 3], [1, 1], [2, 0]])], [R(0), 1, R(1)], torch.gather)
    c.add('gather', 'axis 0, repeats accumulate', [rn(3, 4), idx([[2, 0, 1, 2], [2, 0, 0, 2]])], [R(0), 0, R(1)], torch.gather)
    c.add('gather', 'axis -1, index smaller on other axes', [rn(3, 4), idx([[3], [0]])], [R(0), -1, R(1)], torch.gather)
    c.add('indexSelect', 'axis 0, repeats (embedding lookup)', [rn(5, 3), idx([4, 0, 4, 2])], [R(0), 0, R(1)], torch.index_select)
    c.add('indexSelect', 'axis -1', [rn(3, 4), idx([3, 1, 3])], [R(0), -1, R(1)], torch.index_select)
    c.add('indexSelect', 'scalar index keeps the axis', [rn(3, 4), torch.tensor(1)], [R(0), 1, R(1)], torch.index_select)
    c.add('take', 'flat indices with repeats', [rn(3, 4), idx([0, 5, 11, 5])], [R(0), R(1)], torch.take)
    c.add('take', 'negative indices, 2-D index', [rn(2, 3), idx([[0, -1], [5, -1]])], [R(0), R(1)], torch.take)
    c.add('scatterAdd', '1-D, repeats accumulate', [rn(4), idx([0, 2, 0, 3, 0]), rn(5)], [R(0), 0, R(1), R(2)], torch.scatter_add)
    # src elements outside index's shape get no gradient; PyTorch 1.13's scatter_add backward returns
    # index's shape there, so the reference crops src first (the same function, a src-shaped gradient).
    c.add('scatterAdd', 'axis -1, index smaller than src', [rn(2, 3), idx([[2, 2], [0, 1]]), rn(2, 4)], [R(0), -1, R(1), R(2)],
          lambda x, a, i, s: torch.scatter_add(x, a, i, s[:, :2]))
    c.add('scatterAdd', 'axis 0', [rn(3, 4), idx([[0, 1, 2, 0], [2, 2, 2, 2]]), rn(2, 4)], [R(0), 0, R(1), R(2)], torch.scatter_add)
