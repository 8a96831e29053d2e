"""Golden values for the CPU backend's fast convolution and pooling paths (group 'conv_fast'):
float32 conv2d, conv2dTranspose (conv2d's input gradient) and conv2dWeightGrad large enough to
run in WebAssembly (the stride-1 direct kernel, or im2col + gemm for strides and groups), and
2x2/stride-2 max pooling large enough for its WebAssembly kernel, and depthwise convolutions.
Inputs are mostly multiples of 1/8, so every product and partial sum is exact in float32 and the outputs are short; one
case per op uses normal random values."""
import torch
import torch.nn.functional as F
from golden import Cases, R, randn, write

g = torch.Generator().manual_seed(23)
c = Cases()
F32 = dict(rtol=1e-5, atol=1e-5)
NAN, INF = float('nan'), float('inf')
CONV_KEYS = {'stride': 'stride', 'padding': 'padding', 'outputPadding': 'output_padding', 'dilation': 'dilation', 'groups': 'groups'}


def eighths(*shape):
    return (torch.randint(-8, 9, shape, generator=g) / 8).to(torch.float32)


def topts(opts):
    return {CONV_KEYS[k]: v for k, v in (opts or {}).items()}


def conv_case(name, x, w, b=None, opts=None, **tol):
    inputs = [x, w] + ([b] if b is not None else [])
    args = [R(0), R(1), R(2) if b is not None else None] + ([opts] if opts else [])
    c.add('conv2d', name, inputs, args, lambda x, w, b=None, o=None: F.conv2d(x, w, b, **topts(opts)), **tol)


# Stride 1, one group: the direct WebAssembly kernel (implicit im2col).
conv_case('direct: [2,8,12,12] * [16,8,3,3] + bias', eighths(2, 8, 12, 12), eighths(16, 8, 3, 3), eighths(16))
conv_case('direct: random values, [1,8,12,12] * [16,8,3,3]', randn(1, 8, 12, 12, g=g), randn(16, 8, 3, 3, g=g), None, None, **F32)
conv_case('direct: padding 1, odd width 13', eighths(1, 6, 9, 13), eighths(12, 6, 3, 3), eighths(12), {'padding': 1})
conv_case('direct: dilation 2, padding [2,1]', eighths(1, 4, 12, 10), eighths(12, 4, 3, 3), None, {'dilation': 2, 'padding': [2, 1]})
conv_case('direct: 10 output channels (not a multiple of 4), [2,3] kernel', eighths(1, 8, 11, 11), eighths(10, 8, 2, 3), eighths(10))
conv_case('direct: one input channel, 32 outputs', eighths(1, 1, 14, 14), eighths(32, 1, 3, 3), eighths(32))
# Strides and groups: im2col + gemm.
conv_case('gemm: stride 2 padding 1', eighths(2, 6, 15, 13), eighths(16, 6, 3, 3), eighths(16), {'stride': 2, 'padding': 1})
conv_case('gemm: groups 2, stride [1,2]', eighths(1, 8, 16, 21), eighths(16, 4, 3, 3), None, {'groups': 2, 'stride': [1, 2]})
conv_case('gemm: stride 2 dilation 2', eighths(1, 8, 19, 19), eighths(16, 8, 3, 3), None, {'stride': 2, 'dilation': 2})


def conv_t_case(name, x, w, opts=None, **tol):
    args = [R(0), R(1), None] + ([opts] if opts else [])
    c.add('conv2dTranspose', name, [x, w], args, lambda x, w, b=None, o=None: F.conv_transpose2d(x, w, **topts(opts)), **tol)


conv_t_case('direct (stride 1): padding 1', eighths(2, 16, 10, 10), eighths(16, 8, 3, 3), {'padding': 1})
conv_t_case('direct (stride 1): random values, no padding', randn(1, 16, 10, 10, g=g), randn(16, 8, 3, 3, g=g), None, **F32)
conv_t_case('direct (stride 1): dilation 2, outputPadding 1', eighths(1, 12, 9, 9), eighths(12, 8, 3, 3), {'dilation': 2, 'padding': 1, 'outputPadding': 1})
conv_t_case('col2im: stride 2 padding 1 outputPadding 1', eighths(1, 16, 6, 6), eighths(16, 8, 3, 3), {'stride': 2, 'padding': 1, 'outputPadding': 1})
conv_t_case('col2im: groups 2', eighths(1, 16, 12, 12), eighths(16, 4, 3, 3), {'groups': 2})


def weight_grad(kernel, opts):
    def fn(x, gout, k=None, o=None):
        oo = topts(opts)
        w = torch.zeros(gout.shape[1], x.shape[1] // oo.get('groups', 1), *kernel, requires_grad=True)
        (dw,) = torch.autograd.grad(F.conv2d(x, w, **oo), w, gout)
        return dw
    return fn


def wg_case(name, x, gout, kernel, opts=None, **tol):
    c.add('conv2dWeightGrad', name, [x, gout], [R(0), R(1), kernel] + ([opts] if opts else []), weight_grad(kernel, opts), **tol)


wg_case('gemm: [2,8,12,12] -> [16,8,3,3]', eighths(2, 8, 12, 12), eighths(2, 16, 10, 10), [3, 3])
wg_case('gemm: random values', randn(1, 8, 12, 12, g=g), randn(1, 16, 10, 10, g=g), [3, 3], None, **F32)
wg_case('gemm: stride 2 padding 1', eighths(2, 6, 15, 13), eighths(2, 16, 8, 7), [3, 3], {'stride': 2, 'padding': 1})
wg_case('gemm: groups 2', eighths(1, 8, 16, 16), eighths(1, 16, 14, 14), [3, 3], {'groups': 2})


xp = torch.randint(-3, 4, (2, 33, 15, 19), generator=g).to(torch.float32)  # ties in most windows; outW 9, not a multiple of 4
xp[0, 0, 0, 1] = NAN
xp[1, 2, 5, 5] = -INF
xp[1, 3, 7, 8] = INF
xp[0, 1, 2, 2:4] = NAN
c.add('maxPool2d', '2x2 stride 2, WebAssembly: ties, NaN, ±Inf, odd sizes', [xp], [R(0), 2], lambda x, k: F.max_pool2d(x, 2))

# Depthwise (groups = channels), stride 1: the depthwise WebAssembly kernel, forward and input gradient.
conv_case('depthwise: groups 16, padding 1', eighths(2, 16, 16, 16), eighths(16, 1, 3, 3), eighths(16), {'groups': 16, 'padding': 1})
conv_case('depthwise: multiplier 2, dilation 2', eighths(1, 8, 15, 17), eighths(16, 1, 3, 3), None, {'groups': 8, 'dilation': 2})
conv_t_case('depthwise (stride 1): groups 16, padding 1', eighths(2, 16, 16, 16), eighths(16, 1, 3, 3), {'groups': 16, 'padding': 1})

write('conv_fast', c)
