"""Golden values for the CPU backend's Winograd F(2x2, 3x3) float32 convolution (group
'conv_winograd'): 3x3, stride 1, one group, >= 16 input and output channels, so conv2d takes
wasm/winograd.ts. Inputs in multiples of 1/8 (the transforms' halves keep every value exact, so
outputs match to float32 rounding), and random-valued cases at rtol 1e-5 with atol 1e-4: an
output of 216 randn·randn terms has sum |terms| ~ 140, so one float32 rounding of a transformed
value (2^-24 * 140 ~ 8e-6) already exceeds atol 1e-5 where the terms cancel; the measured bound is
in packages/backend-cpu/test/winograd.test.ts (error <= 16 * 2^-24 * sum |terms|)."""
import torch
import torch.nn.functional as F
from golden import Cases, R, randn, write

g = torch.Generator().manual_seed(31)
c = Cases()
F32 = dict(rtol=1e-5, atol=1e-4)


def eighths(*shape):
    return (torch.randint(-8, 9, shape, generator=g) / 8).to(torch.float32)


def conv_case(name, x, w, b=None, opts=None, **tol):
    inputs = [x, w] + ([b] if b is not None else [])
    args = [R(0), R(1), R(2) if b is not None else None] + ([opts] if opts else [])
    c.add('conv2d', name, inputs, args, lambda x, w, b=None, o=None: F.conv2d(x, w, b, **(opts or {})), **tol)


conv_case('winograd: [2,16,12,12] * [16,16,3,3] + bias', eighths(2, 16, 12, 12), eighths(16, 16, 3, 3), eighths(16))
conv_case('winograd: padding 1, odd output 9x13, 20 outputs', eighths(1, 16, 9, 13), eighths(20, 16, 3, 3), eighths(20), {'padding': 1})
conv_case('winograd: random values, [2,24,10,10] * [32,24,3,3]', randn(2, 24, 10, 10, g=g), randn(32, 24, 3, 3, g=g), None, None, **F32)
conv_case('winograd: random values, padding 1, [1,32,11,7]', randn(1, 32, 11, 7, g=g), randn(16, 32, 3, 3, g=g), randn(16, g=g), {'padding': 1}, **F32)
write('conv_winograd', c)
