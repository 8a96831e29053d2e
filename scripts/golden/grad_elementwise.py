"""Gradient cases for the elementwise ops (used by gen_grad.py)."""
import torch
import torch.nn.functional as F
from golden import R
from grad_cases import pos, rn, t

NAN, INF = float('nan'), float('inf')


def add_unary(c):
    UNARY = {
        'neg': torch.neg, 'abs': torch.abs, 'sign': torch.sign, 'exp': torch.exp, 'log': torch.log, 'log1p': torch.log1p,
        'expm1': torch.expm1, 'sqrt': torch.sqrt, 'rsqrt': torch.rsqrt, 'reciprocal': torch.reciprocal, 'sin': torch.sin,
        'cos': torch.cos, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'relu': torch.relu, 'erf': torch.erf,
        'floor': torch.floor, 'ceil': torch.ceil, 'round': torch.round,
    }
    POSITIVE = {'log', 'sqrt', 'rsqrt', 'log1p', 'reciprocal'}
    for name, fn in UNARY.items():
        mk = pos if name in POSITIVE else (lambda *s: rn(*s, scale=2))
        c.add(name, '[3,4]', [mk(3, 4)], [R(0)], fn)
        c.add(name, 'scalar', [mk()], [R(0)], fn)
    c.add('exp', 'non-contiguous [4,3]ᵀ', [rn(4, 3)], [R(0, [1, 0])], torch.exp)
    c.add('exp', 'zero-size [0,3]', [torch.zeros(0, 3, dtype=torch.float64)], [R(0)], torch.exp)
    c.add('reciprocal', 'negative values', [-pos(5)], [R(0)], torch.reciprocal)
    # PyTorch's conventions at 0: abs' and relu' are 0 there, sqrt' is ±inf (the weight's sign).
    AT_ZERO = t([-1.5, -0.0, 0.0, 0.5, 2.0])
    c.add('abs', 'at 0 the gradient is 0', [AT_ZERO], [R(0)], torch.abs)
    c.add('relu', 'at 0 the gradient is 0', [AT_ZERO], [R(0)], torch.relu)
    c.add('sign', 'at 0', [AT_ZERO], [R(0)], torch.sign)
    c.add('sqrt', 'at 0 the gradient is inf', [t([0.0, 0.25, 4.0])], [R(0)], torch.sqrt)
    c.add('round', 'halves', [t([0.5, 1.5, -2.5, 0.2])], [R(0)], torch.round)
    # Saturation and overflow: the gradient is what the formula gives at the extremes.
    c.add('sigmoid', 'saturated at ±800', [t([-800.0, 800.0, 40.0])], [R(0)], torch.sigmoid)
    c.add('tanh', '±inf', [t([INF, -INF, 30.0])], [R(0)], torch.tanh)
    c.add('exp', 'overflow to inf', [t([800.0, -800.0])], [R(0)], torch.exp)
    c.add('log', 'at 0', [t([0.0, 1.0])], [R(0)], torch.log)
    for approx in ['none', 'tanh']:
        c.add('gelu', f"approximate '{approx}'", [rn(3, 5, scale=3)], [R(0), approx], lambda x, a: F.gelu(x, approximate=a))
    c.add('gelu', 'default (erf), at 0', [t([0.0, -0.0, 1e-3, -4.0])], [R(0)], F.gelu)
    c.add('cast', 'float32 → float64', [rn(2, 3).float()], [R(0), 'float64'], lambda x, d: x.double(), as_is=True)
    c.add('cast', 'float64 → float32', [rn(2, 3)], [R(0), 'float32'], lambda x, d: x.float(), as_is=True)
    c.add('cast', 'to its own dtype', [rn(3)], [R(0), 'float64'], lambda x, d: x.double(), as_is=True)


def add_binary(c):
    BINARY = {
        'add': torch.add, 'sub': torch.sub, 'mul': torch.mul, 'div': torch.div, 'pow': torch.pow,
        'maximum': torch.maximum, 'minimum': torch.minimum, 'mod': torch.remainder,
    }
    for name, fn in BINARY.items():
        a = pos(2, 3, 4) if name == 'pow' else rn(2, 3, 4, scale=2)
        b = rn(3, 1) + (2.5 if name in ('div', 'mod') else 0)
        c.add(name, 'broadcast [2,3,4] ⊕ [3,1]', [a, b], [R(0), R(1)], fn)
        c.add(name, 'broadcast both [3,1] ⊕ [1,4]', [pos(3, 1) if name == 'pow' else rn(3, 1), pos(1, 4) + 0.5], [R(0), R(1)], fn)
        c.add(name, 'scalar tensor ⊕ [2,3]', [pos() + 0.3, pos(2, 3)], [R(0), R(1)], fn)
        c.add(name, 'weak scalar operand', [pos(3, 2)], [R(0), 2.5], lambda x, s, fn=fn: fn(x, torch.tensor(s, dtype=x.dtype)))
        c.add(name, 'weak scalar first', [pos(3, 2) + 0.5], [1.5, R(0)], lambda s, x, fn=fn: fn(torch.tensor(s, dtype=x.dtype), x))
        c.add(name, 'non-contiguous', [pos(3, 4), pos(4, 3) + 0.5], [R(0), R(1, [1, 0])], fn)
    c.add('add', 'float32 ⊕ float64 promotes', [rn(2, 3).float(), rn(3)], [R(0), R(1)], torch.add, as_is=True)
    c.add('mul', 'float64 ⊕ float32 promotes', [rn(2, 3), rn(2, 3).float()], [R(0), R(1)], torch.mul, as_is=True)
    c.add('div', 'zero-size broadcast', [torch.zeros(0, 3, dtype=torch.float64), pos(1, 3)], [R(0), R(1)], torch.div)
    # pow at 0 (PyTorch): d/da is 0 where b = 0, else b·a^(b-1) (inf for 0 < b < 1); d/db is 0 where a = 0 and b ≥ 0.
    c.add('pow', 'at a = 0 and b = 0', [t([0.0, 0.0, 0.0, 0.0, 0.0, 1.5, -2.0, 2.0]), t([0.0, 1.0, 2.0, 0.5, 3.0, 0.0, 2.0, -1.0])],
          [R(0), R(1)], torch.pow)
    c.add('pow', 'x² with x at 0 and negative', [t([-2.0, -0.5, 0.0, 0.5, 3.0])], [R(0), 2], lambda x, e: torch.pow(x, e))
    c.add('pow', 'x^0.5 at 0', [t([0.0, 1.0, 4.0])], [R(0), 0.5], lambda x, e: torch.pow(x, e))
    c.add('pow', '2^x', [rn(4)], [2, R(0)], lambda b, x: torch.pow(b, x))
    # maximum/minimum: tied operands share the gradient evenly (PyTorch).
    TA, TB = t([[1.0, 2.0, 3.0, -1.0], [0.5, 0.5, 4.0, 2.0]]), t([1.0, 0.0, 3.0, 5.0])
    for name in ['maximum', 'minimum']:
        c.add(name, 'ties split evenly', [TA, TB], [R(0), R(1)], BINARY[name])
        c.add(name, 'ties with a weak scalar', [t([0.0, 2.0, -1.0, 2.0])], [R(0), 2.0], lambda x, s, fn=BINARY[name]: fn(x, torch.tensor(s, dtype=x.dtype)))
    c.add('minimum', 'signed zeros tie', [t([0.0, -0.0]), t([-0.0, 0.0])], [R(0), R(1)], torch.minimum)
    c.add('div', 'by zero', [t([1.0, 0.0, -2.0]), t([0.0, 0.0, 0.0])], [R(0), R(1)], torch.div)
    c.add('mod', 'negative divisor', [rn(2, 3, scale=3), -pos(3) - 1], [R(0), R(1)], torch.remainder)

    c.add('where', 'broadcast condition [3,1], a [3,4], b [4]', [rn(3, 1) > 0, rn(3, 4), rn(4)], [R(0), R(1), R(2)], torch.where)
    # The branch not taken gets a zero gradient even where it holds NaN or inf.
    c.add('where', 'NaN and inf in the branch not taken', [t([1.0, 0.0, 1.0]) > 0, t([NAN, 1.0, 2.0]), t([2.0, NAN, INF])],
          [R(0), R(1), R(2)], torch.where)
    c.add('where', 'scalar branch', [rn(2, 3) > 0, rn(2, 3)], [R(0), R(1), 0.0],
          lambda m, x, s: torch.where(m, x, torch.tensor(s, dtype=x.dtype)))
    c.add('where', 'scalar condition first', [rn(2, 3)], [True, 1.5, R(0)],
          lambda m, s, x: torch.where(torch.tensor(m), torch.tensor(s, dtype=x.dtype), x))

    # clamp: at a bound the gradient flows (PyTorch's x ≥ min and x ≤ max).
    c.add('clamp', 'both bounds', [rn(4, 5, scale=2)], [R(0), -1, 1.5], torch.clamp)
    c.add('clamp', 'min only', [rn(4, 5)], [R(0), 0.25], lambda x, lo: torch.clamp(x, min=lo))
    c.add('clamp', 'max only', [rn(4, 5)], [R(0), None, -0.25], lambda x, lo, hi: torch.clamp(x, max=hi))
    c.add('clamp', 'values at the bounds', [t([-2.0, -1.0, 0.0, 1.5, 2.0])], [R(0), -1, 1.5], torch.clamp)
