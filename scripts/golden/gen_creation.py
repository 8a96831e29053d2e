"""Golden values for the creation ops (group 'creation'): full, zeros, ones, arange, linspace,
eye, zerosLike, onesLike, fullLike. Random ops cannot match PyTorch's generator: they are tested
by their properties and Philox's known answers in packages/backend-cpu/test/random.test.ts.

PyTorch's CPU range kernels compute each element as one fused multiply-add (start + step·i)
except inside SIMD blocks, where they add k·step to the block's first value with one more
rounding (AVX2 here: blocks of 8 float32 / 4 float64, used when there are at least 16 / 8
elements). Kiln computes every element by the per-element formula, so cases shorter than two
SIMD blocks are compared bit for bit (rtol=0, atol=0), longer ones within an ulp or two, and
'per-element formula' cases compare long ranges bit for bit against that formula evaluated
exactly here (see docs/design/deviations-creation.md).
"""
from fractions import Fraction

import numpy as np
import torch
from golden import Cases, R, randn, write

g = torch.Generator().manual_seed(7)
c = Cases()
TD = {'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int32, 'bool': torch.bool}
EXACT = {'rtol': 0, 'atol': 0}
ULP = {'float32': 2.5e-7, 'float64': 5e-16}


def near(dtype, *ends):
    """Tolerance for PyTorch's SIMD-block values: an ulp or two of the range's largest magnitude
    (its extra rounding of the block's first value carries over to values near zero)."""
    scale = max(abs(float(e)) for e in ends)
    return {'rtol': ULP[dtype], 'atol': ULP[dtype] * scale}
NP = {'float32': np.float32, 'float64': np.float64}


def round_to(x, dtype):
    """An exact Fraction rounded once to float32/float64 (round half to even)."""
    if dtype == 'float64':
        return float(x)  # Fraction → float is correctly rounded
    d = np.float32(float(x))  # may be off by one ulp (double rounding): pick the nearest neighbour
    cands = [np.nextafter(d, np.float32(-np.inf)), d, np.nextafter(d, np.float32(np.inf))]
    even = lambda v: int(np.float32(v).view(np.uint32)) & 1
    return float(min(cands, key=lambda v: (abs(Fraction(float(v)) - x), even(v))))


def fused(a, b, cc, dtype):
    return round_to(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(cc)), dtype)


def arange_formula(start, stop, step, dtype):
    n = max(0, int(np.ceil((stop - start) / step)))
    # PyTorch's float kernels compute in float64, then store in the dtype.
    return torch.tensor([fused(step, i, start, 'float64') for i in range(n)], dtype=TD[dtype])


def linspace_formula(start, stop, steps, dtype):
    f = NP[dtype]
    s, e = f(start), f(stop)
    step = f(f(e - s) / f(steps - 1))
    half = steps // 2
    vals = [fused(step, i, s, dtype) if i < half else fused(-step, steps - 1 - i, e, dtype) for i in range(steps)]
    return torch.tensor(vals, dtype=TD[dtype])


def simd_exact(dtype, n):
    """Whether PyTorch computed every element of an n-element range per element (no SIMD blocks)."""
    return n < (16 if dtype == 'float32' else 8)


# ---- full, zeros, ones ----
c.add('full', 'int32 from an integer', [], [[2, 3], 7], lambda s, v: torch.full(s, v, dtype=torch.int32))
c.add('full', 'float32 from a float', [], [[4], 2.5], lambda s, v: torch.full(s, v))
c.add('full', 'float64', [], [[2, 2], 0.1, 'float64'], lambda s, v, d: torch.full(s, v, dtype=torch.float64))
c.add('full', 'bool', [], [[3], True], lambda s, v: torch.full(s, v))
c.add('full', 'int32 dtype truncates 2.7', [], [[2], 2.7, 'int32'], lambda s, v, d: torch.full(s, v, dtype=torch.int32))
c.add('full', 'NaN scalar', [], [[], 'nan'], lambda s, v: torch.full(s, float(v)))
c.add('full', '-Inf', [], [[2], '-inf'], lambda s, v: torch.full(s, float(v)))
c.add('full', 'zero-size [0,3]', [], [[0, 3], 1.5], lambda s, v: torch.full(s, v))
c.add('zeros', 'default float32', [], [[2, 3]], lambda s: torch.zeros(s))
c.add('zeros', 'float64 scalar', [], [[], 'float64'], lambda s, d: torch.zeros(s, dtype=torch.float64))
c.add('zeros', 'bool', [], [[2], 'bool'], lambda s, d: torch.zeros(s, dtype=torch.bool))
c.add('ones', 'int32', [], [[3], 'int32'], lambda s, d: torch.ones(s, dtype=torch.int32))
c.add('ones', 'zero-size [2,0]', [], [[2, 0]], lambda s: torch.ones(s))

# ---- arange ----
for args in [[5], [0], [1]]:
    c.add('arange', f'integer stop {args[0]}', [], args, lambda n: torch.arange(n))
for args in [[2, 11, 3], [10, 0, -3], [-5, 5, 1], [5, 5, 1], [3, 10, 100], [-2147483648, -2147483640, 3]]:
    c.add('arange', f'int32 {args}', [], args, lambda a, b, s: torch.arange(a, b, s))
c.add('arange', 'int32 default step', [], [-3, 2], lambda a, b: torch.arange(a, b))
FLOAT_RANGES = [(1, 2, 0.25), (0, 1, 0.1), (-1.5, 2.3, 0.7), (0.5, -3.2, -0.45), (1e8 + 0.3, 1e8 + 9, 0.71), (0.3, 0.9, 0.1),
                (-3, 10, 1.1), (5.5, -3.3, -0.45), (0, 100, 0.37), (-1e-3, 1e-3, 1e-5)]
for dtype in ['float32', 'float64']:
    for a, b, s in FLOAT_RANGES:
        n = max(0, int(np.ceil((b - a) / s)))
        tol = EXACT if simd_exact(dtype, n) else near(dtype, a, b)
        c.add('arange', f'{dtype} ({a}, {b}, {s}) n={n}', [], [a, b, s, dtype],
              lambda a, b, s, d: torch.arange(a, b, s, dtype=TD[d]), **tol)
    c.add('arange', f'{dtype} per-element formula (0.1, 50, 0.013)', [], [0.1, 50, 0.013, dtype],
          lambda a, b, s, d: arange_formula(a, b, s, d), **EXACT)
c.add('arange', 'float32 inferred from a float step', [], [0, 3, 0.5], lambda a, b, s: torch.arange(a, b, s), **EXACT)
c.add('arange', 'integer arguments, float32 dtype', [], [0, 5, 1, 'float32'], lambda a, b, s, d: torch.arange(a, b, s, dtype=torch.float32))
c.add('arange', 'float64 empty', [], [1.5, 1.5, 0.5, 'float64'], lambda a, b, s, d: torch.arange(a, b, s, dtype=torch.float64))
c.add('arange', 'int32 dtype truncates start and step', [], [0.5, 5.2, 1.5, 'int32'],
      lambda a, b, s, d: torch.arange(a, b, s, dtype=torch.int32))
c.add('arange', 'int32 dtype, negative fractional step', [], [7.9, -3.5, -2.5, 'int32'],
      lambda a, b, s, d: torch.arange(a, b, s, dtype=torch.int32))

# ---- linspace ----
LIN = [(0, 1, 5), (-3.3, 7.1, 7), (2.5, -7.25, 13), (0, 1, 2), (0.1, 0.7, 3), (5, 5, 4), (-1, 1, 15), (1e-3, 5.5, 33),
       (0, 1, 100), (-3.3, 7.1, 1000), (1e6, 1e6 + 1, 11)]
for dtype in ['float32', 'float64']:
    for a, b, n in LIN:
        tol = EXACT if simd_exact(dtype, n) else near(dtype, a, b)
        c.add('linspace', f'{dtype} ({a}, {b}, {n})', [], [a, b, n, dtype], lambda a, b, n, d: torch.linspace(a, b, n, dtype=TD[d]), **tol)
    for a, b, n in [(-3.3, 7.1, 1000), (0, 1, 4097)]:
        c.add('linspace', f'{dtype} per-element formula ({a}, {b}, {n})', [], [a, b, n, dtype],
              lambda a, b, n, d: linspace_formula(a, b, n, d), **EXACT)
    c.add('linspace', f'{dtype} steps=1', [], [0.3, 9, 1, dtype], lambda a, b, n, d: torch.linspace(a, b, n, dtype=TD[d]), **EXACT)
    c.add('linspace', f'{dtype} steps=0', [], [0.3, 9, 0, dtype], lambda a, b, n, d: torch.linspace(a, b, n, dtype=TD[d]))
    for a, b in [(0, 'inf'), ('-inf', 'inf'), ('nan', 1), (1, '-inf')]:
        c.add('linspace', f'{dtype} special ({a}, {b}, 5)', [], [a, b, 5, dtype],
              lambda a, b, n, d: torch.linspace(float(a), float(b), n, dtype=TD[d]))
c.add('linspace', 'default dtype float32', [], [0, 10, 6], lambda a, b, n: torch.linspace(a, b, n), **EXACT)
for a, b, n in [(0.5, 10.7, 5), (-7, 9, 11), (10, -10, 7), (0, 3, 9), (-2.9, 2.9, 4)]:
    c.add('linspace', f'int32 ({a}, {b}, {n})', [], [a, b, n, 'int32'], lambda a, b, n, d: torch.linspace(a, b, n, dtype=torch.int32))

# ---- eye ----
c.add('eye', 'square 3', [], [3], lambda n: torch.eye(n))
for n, m in [(2, 4), (4, 2), (0, 0), (3, 0), (1, 1)]:
    c.add('eye', f'{n}x{m}', [], [n, m], lambda n, m: torch.eye(n, m))
for dtype in ['int32', 'float64', 'bool']:
    c.add('eye', f'3x3 {dtype}', [], [3, 3, dtype], lambda n, m, d: torch.eye(n, m, dtype=TD[d]))

# ---- zerosLike, onesLike, fullLike ----
X = {
    'float32 [2,3]': randn(2, 3, g=g),
    'float64 [4]': randn(4, dtype=torch.float64, g=g),
    'int32 [3,1]': torch.tensor([[1], [-2], [3]], dtype=torch.int32),
    'bool [2]': torch.tensor([True, False]),
    'zero-size [0,4]': torch.zeros(0, 4),
    'scalar': torch.tensor(1.5),
}
for name, x in X.items():
    c.add('zerosLike', name, [x], [R(0)], torch.zeros_like)
    c.add('onesLike', name, [x], [R(0)], torch.ones_like)
    c.add('fullLike', f'{name} value 2.7', [x], [R(0), 2.7], lambda t, v: torch.full_like(t, v))
xt = randn(3, 5, g=g)
c.add('zerosLike', 'non-contiguous [3,5]ᵀ', [xt], [R(0, [1, 0])], torch.zeros_like)
c.add('onesLike', 'non-contiguous [3,5]ᵀ', [xt], [R(0, [1, 0])], torch.ones_like)
c.add('fullLike', 'non-contiguous [3,5]ᵀ', [xt], [R(0, [1, 0]), -4.25], lambda t, v: torch.full_like(t, v))
c.add('fullLike', 'NaN', [xt], [R(0), 'nan'], lambda t, v: torch.full_like(t, float(v)))
c.add('fullLike', 'Inf into float64', [X['float64 [4]']], [R(0), 'inf'], lambda t, v: torch.full_like(t, float(v)))
c.add('fullLike', 'int32 value -3.9 truncates', [X['int32 [3,1]']], [R(0), -3.9], lambda t, v: torch.full_like(t, v))
c.add('zerosLike', 'dtype override float64', [X['int32 [3,1]']], [R(0), 'float64'], lambda t, d: torch.zeros_like(t, dtype=TD[d]))
c.add('onesLike', 'dtype override bool', [xt], [R(0), 'bool'], lambda t, d: torch.ones_like(t, dtype=TD[d]))
c.add('fullLike', 'dtype override int32', [xt], [R(0), 7.5, 'int32'], lambda t, v, d: torch.full_like(t, v, dtype=TD[d]))

write('creation', c)
