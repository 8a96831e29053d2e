"""Golden values for unary, binary and ternary elementwise ops (group 'elementwise')."""
import torch
import torch.nn.functional as F
from golden import Cases, R, randn, special, write

g = torch.Generator().manual_seed(1)
c = Cases()

FLOAT_UNARY = {
    'neg': torch.neg, 'abs': torch.abs, 'sign': torch.sign, 'exp': torch.exp, 'log': torch.log,
    'log1p': torch.log1p, 'expm1': torch.expm1, 'sqrt': torch.sqrt, 'rsqrt': torch.rsqrt,
    'reciprocal': torch.reciprocal, 'sin': torch.sin, 'cos': torch.cos, 'tanh': torch.tanh,
    'sigmoid': torch.sigmoid, 'relu': torch.relu, 'erf': torch.erf, 'floor': torch.floor,
    'ceil': torch.ceil, 'round': torch.round, 'logicalNot': torch.logical_not, 'isNaN': torch.isnan,
}
POSITIVE = {'log', 'sqrt', 'rsqrt', 'log1p'}

for name, fn in FLOAT_UNARY.items():
    for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
        x = randn(3, 4, dtype=dtype, g=g) * 2
        if name in POSITIVE:
            x = x.abs() + 0.1
        c.add(name, f'{dn} [3,4]', [x], [R(0)], fn)
    c.add(name, 'special values', [special()], [R(0)], fn)
    c.add(name, 'zero-size [0,3]', [torch.zeros(0, 3)], [R(0)], fn)
    c.add(name, 'scalar', [torch.tensor(0.75)], [R(0)], fn)
    c.add(name, 'non-contiguous [4,3]ᵀ', [randn(4, 3, g=g).abs() + 0.1], [R(0, [1, 0])], fn)

# Integer and bool inputs: promotion to float for float-only ops, identity for rounding.
for name in ['neg', 'abs', 'sign', 'relu', 'exp', 'sqrt', 'sigmoid', 'floor', 'round', 'logicalNot', 'isNaN']:
    c.add(name, 'int32', [torch.tensor([-3, 0, 2, 7], dtype=torch.int32)], [R(0)], FLOAT_UNARY[name])
for name in ['logicalNot', 'isNaN', 'exp']:
    c.add(name, 'bool', [torch.tensor([True, False])], [R(0)], FLOAT_UNARY[name])
c.add('round', 'halves to even', [torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 1e20])], [R(0)], torch.round)
c.add('erf', 'tails', [torch.linspace(-6, 6, 49, dtype=torch.float64)], [R(0)], torch.erf)

for approx in ['none', 'tanh']:
    for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
        x = randn(5, 3, dtype=dtype, g=g) * 3
        c.add('gelu', f'{approx} {dn}', [x], [R(0), approx], lambda t, a: F.gelu(t, approximate=a))
    c.add('gelu', f'{approx} special', [special()], [R(0), approx], lambda t, a: F.gelu(t, approximate=a))

for dst in ['float32', 'float64', 'int32', 'bool']:
    c.add('cast', f'float32 → {dst}', [torch.tensor([1.7, -1.7, 0.0, 2.5, -0.2, 100.9])], [R(0), dst],
          lambda t, d: t.to({'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int32, 'bool': torch.bool}[d]))
c.add('cast', 'int32 → float32', [torch.tensor([1, -7, 2**24 + 1], dtype=torch.int32)], [R(0), 'float32'], lambda t, d: t.float())
c.add('cast', 'bool → int32', [torch.tensor([True, False])], [R(0), 'int32'], lambda t, d: t.int())

ARITH = {
    'add': torch.add, 'sub': torch.sub, 'mul': torch.mul, 'div': torch.div, 'pow': torch.pow,
    'maximum': torch.maximum, 'minimum': torch.minimum, 'mod': torch.remainder,
}
COMPARE = {'eq': torch.eq, 'ne': torch.ne, 'lt': torch.lt, 'le': torch.le, 'gt': torch.gt, 'ge': torch.ge}
LOGICAL = {'logicalAnd': torch.logical_and, 'logicalOr': torch.logical_or}

for name, fn in {**ARITH, **COMPARE, **LOGICAL}.items():
    a = randn(2, 3, 4, g=g) * 3
    b = randn(3, 1, g=g) * 3 + (3 if name in ('pow', 'mod', 'div') else 0)
    if name == 'pow':
        a = a.abs() + 0.1
    c.add(name, 'broadcast [2,3,4] ⊕ [3,1]', [a, b], [R(0), R(1)], fn)
    c.add(name, 'f64 same shape', [randn(4, 5, dtype=torch.float64, g=g).abs() + 0.5, randn(4, 5, dtype=torch.float64, g=g).abs() + 0.5], [R(0), R(1)], fn)
    c.add(name, 'scalar operand (weak)', [randn(3, 2, g=g).abs() + 0.5], [R(0), 2.5], lambda x, s, fn=fn: fn(x, torch.tensor(s)))
    c.add(name, 'scalar first', [randn(3, 2, g=g).abs() + 0.5], [2, R(0)], lambda s, x, fn=fn: fn(torch.tensor(s), x))
    c.add(name, 'zero-size broadcast', [torch.zeros(0, 3), torch.ones(1, 3)], [R(0), R(1)], fn)
    sa, sb = special(), special().flip(0)
    c.add(name, 'special values', [sa, sb], [R(0), R(1)], fn)
    c.add(name, 'non-contiguous', [randn(3, 4, g=g).abs() + 0.5, randn(4, 3, g=g).abs() + 0.5], [R(0), R(1, [1, 0])], fn)
    ia = torch.tensor([[-7, -2, 0, 3, 9]], dtype=torch.int32)
    ib = torch.tensor([[2], [3], [-4]], dtype=torch.int32)
    if name == 'pow':
        ib = ib.abs()
    c.add(name, 'int32 broadcast', [ia, ib], [R(0), R(1)], fn)
    c.add(name, 'int32 ⊕ float32 promotes', [ia, randn(3, 1, g=g).abs() + 0.5], [R(0), R(1)], fn)
    c.add(name, 'int32 ⊕ 0.5 lifts to float32', [ia], [R(0), 0.5], lambda x, s, fn=fn: fn(x, torch.tensor(s)))
    c.add(name, 'float64 ⊕ float32', [randn(2, 2, dtype=torch.float64, g=g).abs() + 0.5, randn(2, 2, g=g).abs() + 0.5], [R(0), R(1)], fn)
c.add('add', 'int32 wraps', [torch.tensor([2**31 - 1], dtype=torch.int32)], [R(0), 1], lambda x, s: x + s)
c.add('mul', 'int32 wraps', [torch.tensor([65536, 123456789], dtype=torch.int32)], [R(0), 65537], lambda x, s: x * s)
c.add('div', 'int32 / int32 is float', [torch.tensor([1, 7, -7], dtype=torch.int32), torch.tensor([2, 2, 2], dtype=torch.int32)], [R(0), R(1)], torch.div)
c.add('logicalAnd', 'float truthiness', [torch.tensor([0.0, 1.0, float('nan'), -2.0])], [R(0), True], lambda x, s: torch.logical_and(x, torch.tensor(s)))
c.add('eq', 'bool', [torch.tensor([True, False, True]), torch.tensor([True, True, False])], [R(0), R(1)], torch.eq)

for dtype, dn in [(torch.float32, 'f32'), (torch.int32, 'i32')]:
    cond = randn(3, 1, g=g) > 0
    a = (randn(3, 4, g=g) * 5).to(dtype)
    b = (randn(4, g=g) * 5).to(dtype)
    c.add('where', f'broadcast {dn}', [cond, a, b], [R(0), R(1), R(2)], torch.where)
c.add('where', 'scalar branches', [torch.tensor([True, False, True])], [R(0), 1.5, 0], lambda m, x, y: torch.where(m, torch.tensor(x), torch.tensor(float(y))))

x = randn(4, 5, g=g) * 3
c.add('clamp', 'both bounds', [x], [R(0), -1, 1.5], torch.clamp)
c.add('clamp', 'min only', [x], [R(0), 0.5], lambda t, lo: torch.clamp(t, min=lo))
c.add('clamp', 'max only', [x], [R(0), None, 0.5], lambda t, lo, hi: torch.clamp(t, max=hi))
c.add('clamp', 'min > max', [x], [R(0), 2, 1], torch.clamp)
c.add('clamp', 'int32', [torch.tensor([-5, 0, 5, 10], dtype=torch.int32)], [R(0), 0, 6], torch.clamp)
c.add('clamp', 'NaN stays NaN', [special()], [R(0), -1, 1], torch.clamp)

write('elementwise', c)
