"""Shared helpers for generating golden op values with PyTorch.

Each gen_<group>.py builds a list of cases and calls write(group, cases). A case records the
Kiln op-surface function name, the input tensors, the positional arguments (tensor arguments
are references {"ref": i}, optionally {"ref": i, "permute": [...]} to pass a permuted,
non-contiguous view in PyTorch and `permute(x, ...)` in Kiln) and PyTorch's outputs.

Run with Debian's python3-torch: /usr/bin/python3 scripts/golden/gen_<group>.py
The TypeScript runner is packages/backend-cpu/test/helpers/golden.ts.
"""
import json
import math
import os
import sys

import torch

OUT_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'backend-cpu', 'test', 'golden')

DTYPES = {
    torch.float32: 'float32',
    torch.float64: 'float64',
    torch.int32: 'int32',
    torch.int64: 'int32',  # Kiln has no int64: PyTorch's int64 results are compared as int32
    torch.bool: 'bool',
}

TORCH_DTYPES = {'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int32, 'bool': torch.bool}


def _num(v):
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, float):
        if math.isnan(v):
            return 'nan'
        if math.isinf(v):
            return 'inf' if v > 0 else '-inf'
    return v


def encode(t):
    """A torch tensor as {dtype, shape, data} with data flat (row-major), NaN/Inf as strings."""
    t = t.detach()
    if t.dtype not in DTYPES:
        raise ValueError(f'unsupported dtype {t.dtype}')
    dtype = DTYPES[t.dtype]
    flat = t.contiguous().reshape(-1).tolist()
    if dtype == 'int32' and t.dtype == torch.int64:
        for v in flat:
            if not -2**31 <= v < 2**31:
                raise ValueError('int64 value does not fit int32')
    return {'dtype': dtype, 'shape': list(t.shape), 'data': [_num(v) for v in flat]}


class Ref:
    """A tensor argument: input i, optionally permuted (a non-contiguous view in PyTorch)."""

    def __init__(self, i, permute=None):
        self.i = i
        self.permute = permute

    def json(self):
        d = {'ref': self.i}
        if self.permute is not None:
            d['permute'] = list(self.permute)
        return d


def R(i, permute=None):
    return Ref(i, permute)


def _resolve(args, inputs):
    out = []
    for a in args:
        if isinstance(a, Ref):
            t = inputs[a.i]
            out.append(t.permute(*a.permute) if a.permute is not None else t)
        elif isinstance(a, (list, tuple)) and any(isinstance(x, Ref) for x in a):
            out.append([_resolve([x], inputs)[0] for x in a])
        else:
            out.append(a)
    return out


def _json_arg(a):
    if isinstance(a, Ref):
        return a.json()
    if isinstance(a, (list, tuple)):
        return [_json_arg(x) for x in a]
    return _num(a) if isinstance(a, float) else a


class Cases:
    def __init__(self):
        self.cases = []

    def add(self, op, name, inputs, args, torch_fn, rtol=None, atol=None, kiln_args=None):
        """Records op(*args) in Kiln against torch_fn(*args) in PyTorch.

        inputs: list of torch tensors; args: positional args with R(i) for tensors;
        kiln_args: Kiln's positional args when they differ from PyTorch's (same R(i) refs).
        """
        result = torch_fn(*_resolve(args, inputs))
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        case = {
            'op': op,
            'name': name,
            'inputs': [encode(t) for t in inputs],
            'args': [_json_arg(a) for a in (kiln_args if kiln_args is not None else args)],
            'outputs': [encode(o) for o in outputs],
        }
        if rtol is not None:
            case['rtol'] = rtol
        if atol is not None:
            case['atol'] = atol
        self.cases.append(case)


def write(group, cases, out_dir=None):
    """Writes cases (a Cases, or anything with a .cases list) to <out_dir>/<group>.json (default: the CPU goldens)."""
    out_dir = out_dir or OUT_DIR
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f'{group}.json')
    with open(path, 'w') as f:
        json.dump({'generator': f'scripts/golden/gen_{group}.py', 'torch': torch.__version__, 'cases': cases.cases}, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {len(cases.cases)} cases to {os.path.relpath(path)}', file=sys.stderr)


def gen(seed=0):
    g = torch.Generator().manual_seed(seed)
    return g


def randn(*shape, dtype=torch.float32, g=None):
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def special(dtype=torch.float32):
    """Values that catch edge cases: NaN, ±Inf, ±0, tiny and large magnitudes."""
    return torch.tensor([float('nan'), float('inf'), -float('inf'), 0.0, -0.0, 1e-30, -1e-30, 1e30, 0.5, -0.5, 1.5, -2.5, 3.0], dtype=dtype)
