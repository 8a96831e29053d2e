"""Golden values for the convolution and pooling gradient ops (group 'conv_grad'):
conv2dTranspose (F.conv_transpose2d), conv2dWeightGrad (conv2d's weight gradient by autograd),
maxPool2dIndices (F.max_pool2d's return_indices), avgPool2dGrad (avg_pool2d's input gradient
by autograd)."""
import torch
import torch.nn.functional as F
from golden import Cases, R, randn, write

g = torch.Generator().manual_seed(11)
c = Cases()
F32 = dict(rtol=1e-5, atol=1e-5)  # float32 sums: PyTorch accumulates in float32, Kiln in float64
INF, NAN = float('inf'), float('nan')
CONV_KEYS = {'stride': 'stride', 'padding': 'padding', 'outputPadding': 'output_padding', 'dilation': 'dilation', 'groups': 'groups'}


def ints(*shape, lo=-5, hi=6):
    return torch.randint(lo, hi, shape, generator=g, dtype=torch.int32)


def torch_opts(opts, keys):
    return {keys[k]: v for k, v in (opts or {}).items()}


# ---- conv2dTranspose ----------------------------------------------------------------------
def conv_t(x, w, b=None, opts=None):
    if x.dtype == torch.int32:  # PyTorch has no int32 transposed convolution: int64, then wrap
        y = F.conv_transpose2d(x.long(), w.long(), None if b is None else b.long(), **torch_opts(opts, CONV_KEYS))
        return ((y + 2**31) % 2**32 - 2**31).to(torch.int32)
    return F.conv_transpose2d(x, w, b, **torch_opts(opts, CONV_KEYS))


def conv_t_case(name, inputs, opts=None, bias=True, perm=None):
    args = [R(0, perm), R(1), R(2) if bias else None] + ([opts] if opts else [])
    c.add('conv2dTranspose', name, inputs, args, conv_t, **(F32 if inputs[0].dtype == torch.float32 else {}))


conv_t_case('f32 [2,3,5,5] * [3,4,3,3] + bias', [randn(2, 3, 5, 5, g=g), randn(3, 4, 3, 3, g=g), randn(4, g=g)])
conv_t_case('f64 [2,3,5,5] * [3,4,3,3] + bias', [randn(2, 3, 5, 5, dtype=torch.float64, g=g), randn(3, 4, 3, 3, dtype=torch.float64, g=g),
                                                 randn(4, dtype=torch.float64, g=g)])
conv_t_case('no bias, [2,3] kernel', [randn(1, 2, 4, 3, g=g), randn(2, 3, 2, 3, g=g)], bias=False)
conv_t_case('stride 2 padding 1 outputPadding 1', [randn(2, 3, 4, 4, g=g), randn(3, 2, 3, 3, g=g), randn(2, g=g)],
            {'stride': 2, 'padding': 1, 'outputPadding': 1})
conv_t_case('stride [2,3] padding [1,0] outputPadding [1,2]', [randn(1, 2, 3, 4, g=g), randn(2, 3, 3, 2, g=g), randn(3, g=g)],
            {'stride': [2, 3], 'padding': [1, 0], 'outputPadding': [1, 2]})
conv_t_case('dilation 2 padding 1', [randn(1, 2, 5, 5, g=g), randn(2, 2, 3, 3, g=g), randn(2, g=g)], {'dilation': 2, 'padding': 1})
conv_t_case('outputPadding 2 ≥ stride 1, < dilation 3', [randn(1, 2, 3, 3, dtype=torch.float64, g=g), randn(2, 1, 2, 2, dtype=torch.float64, g=g)],
            {'dilation': 3, 'outputPadding': 2}, bias=False)
conv_t_case('1x1 kernel stride 3 leaves gaps', [randn(1, 2, 3, 3, g=g), randn(2, 2, 1, 1, g=g), randn(2, g=g)], {'stride': 3})
conv_t_case('padding crops the full output', [randn(1, 1, 4, 4, g=g), randn(1, 1, 3, 3, g=g)], {'padding': 2}, bias=False)
conv_t_case('groups 2', [randn(2, 4, 3, 3, g=g), randn(4, 3, 2, 2, g=g), randn(6, g=g)], {'groups': 2, 'stride': 2})
conv_t_case('depthwise groups 3', [randn(1, 3, 4, 4, g=g), randn(3, 1, 3, 3, g=g), randn(3, g=g)], {'groups': 3, 'padding': 1})
conv_t_case('unbatched CHW', [randn(3, 4, 5, g=g), randn(3, 2, 3, 3, g=g), randn(2, g=g)], {'stride': 2})
conv_t_case('int32 (PyTorch via int64)', [ints(1, 2, 3, 3), ints(2, 3, 2, 2), ints(3)], {'stride': 2})
conv_t_case('zero batch', [torch.zeros(0, 2, 3, 3), randn(2, 3, 2, 2, g=g), randn(3, g=g)])
xn = randn(1, 1, 3, 3, g=g)
xn[0, 0, 0, 0] = NAN
xn[0, 0, 2, 1] = INF
conv_t_case('NaN and Inf input', [xn, randn(1, 1, 2, 2, g=g)], bias=False)
conv_t_case('non-contiguous x (NHWC view)', [randn(2, 4, 4, 3, g=g), randn(3, 2, 3, 3, g=g)], {'stride': 2}, bias=False, perm=[0, 3, 1, 2])
c.add('conv2dTranspose', 'f32 x, f64 weight promotes', [randn(1, 2, 3, 3, g=g), randn(2, 2, 2, 2, dtype=torch.float64, g=g)], [R(0), R(1)],
      lambda x, w: F.conv_transpose2d(x.double(), w))


# ---- conv2dWeightGrad ---------------------------------------------------------------------
def weight_grad(kernel):
    def fn(x, gout, k=None, opts=None):
        o = torch_opts(opts, CONV_KEYS)
        groups = o.get('groups', 1)
        exact = x.dtype == torch.int32
        xf, gf = (x.double(), gout.double()) if exact else (x, gout)
        if xf.dim() == 3:
            xf, gf = xf.unsqueeze(0), gf.unsqueeze(0)
        w = torch.zeros(gf.shape[1], xf.shape[1] // groups, *kernel, dtype=xf.dtype, requires_grad=True)
        (dw,) = torch.autograd.grad(F.conv2d(xf, w, **o), w, gf)
        return dw.round().to(torch.int32) if exact else dw
    return fn


def wg_case(name, inputs, kernel, opts=None, perm=None):
    args = [R(0, perm), R(1), kernel] + ([opts] if opts else [])
    kpair = [kernel, kernel] if isinstance(kernel, int) else kernel
    c.add('conv2dWeightGrad', name, inputs, args, weight_grad(kpair), **(F32 if inputs[0].dtype == torch.float32 else {}))


wg_case('f32 [2,3,6,6] -> [4,3,3,3]', [randn(2, 3, 6, 6, g=g), randn(2, 4, 4, 4, g=g)], 3)
wg_case('f64 [2,3,6,6] -> [4,3,3,3]', [randn(2, 3, 6, 6, dtype=torch.float64, g=g), randn(2, 4, 4, 4, dtype=torch.float64, g=g)], 3)
wg_case('stride 2 padding 1, last row unused', [randn(1, 2, 8, 7, g=g), randn(1, 3, 4, 4, g=g)], 3, {'stride': 2, 'padding': 1})
wg_case('kernel [2,3] stride [1,2] padding [2,0]', [randn(1, 2, 5, 7, g=g), randn(1, 3, 8, 3, g=g)], [2, 3], {'stride': [1, 2], 'padding': [2, 0]})
wg_case('dilation 2 padding 2', [randn(1, 2, 7, 7, g=g), randn(1, 2, 7, 7, g=g)], 3, {'dilation': 2, 'padding': 2})
wg_case('groups 2', [randn(2, 4, 5, 5, g=g), randn(2, 6, 3, 3, g=g)], 3, {'groups': 2})
wg_case('depthwise groups 3', [randn(1, 3, 5, 5, g=g), randn(1, 6, 5, 5, g=g)], 3, {'groups': 3, 'padding': 1})
wg_case('unbatched CHW', [randn(2, 5, 5, g=g), randn(3, 3, 3, g=g)], 3)
wg_case('int32', [ints(1, 2, 4, 4), ints(1, 3, 3, 3)], 2)
wg_case('zero batch gives zeros', [torch.zeros(0, 2, 4, 4), torch.zeros(0, 3, 3, 3)], 2)
wg_case('non-contiguous x (NHWC view)', [randn(1, 5, 5, 2, g=g), randn(1, 3, 4, 4, g=g)], 2, perm=[0, 3, 1, 2])
c.add('conv2dWeightGrad', 'f32 x, f64 gradOutput promotes', [randn(1, 2, 4, 4, g=g), randn(1, 2, 3, 3, dtype=torch.float64, g=g)],
      [R(0), R(1), 2], lambda x, go, k: weight_grad([2, 2])(x.double(), go))


# ---- maxPool2dIndices ---------------------------------------------------------------------
POOL_KEYS = {'stride': 'stride', 'padding': 'padding', 'dilation': 'dilation', 'ceilMode': 'ceil_mode', 'countIncludePad': 'count_include_pad'}


def idx_case(name, inputs, kernel, opts=None, perm=None):
    def fn(x, k, o=None):
        xf = x.double() if x.dtype == torch.int32 else x
        return F.max_pool2d(xf, k, return_indices=True, **torch_opts(opts, POOL_KEYS))[1]
    c.add('maxPool2dIndices', name, inputs, [R(0, perm), kernel] + ([opts] if opts else []), fn)


idx_case('f32 [2,3,6,6] k2', [randn(2, 3, 6, 6, g=g)], 2)
idx_case('f64 k3 s2 p1', [randn(1, 2, 7, 9, dtype=torch.float64, g=g)], 3, {'stride': 2, 'padding': 1})
idx_case('ties pick the first maximum', [torch.tensor([[[[1., 3., 3., 0.], [3., 2., 0., 0.], [5., 5., 1., 1.], [5., 5., 1., 1.]]]])], 2)
idx_case('overlapping windows with ties', [torch.ones(1, 1, 4, 5)], 3, {'stride': 1, 'padding': 1})
idx_case('NaN wins, the last NaN', [torch.tensor([[[[NAN, 1., 2., NAN], [NAN, 5., NAN, 6.]]]])], 2)
idx_case('all -Inf window with padding: first in-bounds tap', [torch.full((1, 1, 3, 4), -INF)], 3, {'stride': 1, 'padding': 1})
idx_case('dilation 2 padding 1', [randn(1, 2, 9, 9, g=g)], 3, {'dilation': 2, 'padding': 1})
idx_case('dilation [2,1] stride 2 ceilMode', [randn(1, 1, 8, 7, g=g)], 2, {'dilation': [2, 1], 'ceilMode': True, 'stride': 2})
idx_case('k2 s2 p1 ceilMode on 5x5', [randn(1, 1, 5, 5, g=g)], 2, {'stride': 2, 'padding': 1, 'ceilMode': True})
idx_case('unbatched CHW', [randn(3, 4, 6, g=g)], 2)
idx_case('int32 with ties', [ints(1, 2, 6, 6, lo=-2, hi=3)], 3, {'stride': 1})
idx_case('zero batch', [torch.zeros(0, 2, 4, 4)], 2)
idx_case('non-contiguous (NHWC view)', [randn(1, 5, 6, 2, g=g)], 2, {'stride': 1}, perm=[0, 3, 1, 2])


# ---- avgPool2dGrad ------------------------------------------------------------------------
def avg_grad_case(name, input_shape, kernel, opts=None, dtype=torch.float32, perm_shape=None):
    o = torch_opts(opts, POOL_KEYS)
    probe = F.avg_pool2d(torch.zeros(*input_shape, dtype=torch.float64), kernel, **o)
    if dtype == torch.int32:
        gout = ints(*probe.shape)
    elif perm_shape is not None:  # stored as a permuted view: [N, H, W, C] → permute [0, 3, 1, 2]
        gout = randn(*[probe.shape[i] for i in perm_shape], dtype=dtype, g=g)
    else:
        gout = randn(*probe.shape, dtype=dtype, g=g)

    def fn(go, shape, k, oo=None):
        gf = go.float() if go.dtype == torch.int32 else go
        x = torch.zeros(*shape, dtype=gf.dtype, requires_grad=True)
        (dx,) = torch.autograd.grad(F.avg_pool2d(x, k, **o), x, gf)
        return dx
    perm = [0, 3, 1, 2] if perm_shape is not None else None
    c.add('avgPool2dGrad', name, [gout], [R(0, perm), list(input_shape), kernel] + ([opts] if opts else []), fn,
          **(F32 if dtype != torch.float64 else {}))


avg_grad_case('f32 [2,3,6,6] k2', (2, 3, 6, 6), 2)
avg_grad_case('f64 k3 s2 p1', (1, 2, 7, 9), 3, {'stride': 2, 'padding': 1}, dtype=torch.float64)
avg_grad_case('k3 s2 p1 countIncludePad false', (1, 2, 7, 9), 3, {'stride': 2, 'padding': 1, 'countIncludePad': False})
avg_grad_case('k [2,3] stride [1,2] overlapping', (1, 2, 6, 7), [2, 3], {'stride': [1, 2]})
avg_grad_case('k3 s2 ceilMode', (1, 1, 8, 8), 3, {'stride': 2, 'ceilMode': True})
avg_grad_case('k2 s2 p1 ceilMode countIncludePad false', (1, 1, 5, 5), 2, {'stride': 2, 'padding': 1, 'ceilMode': True, 'countIncludePad': False})
avg_grad_case('k3 s2 p1 ceilMode', (1, 1, 5, 5), 3, {'stride': 2, 'padding': 1, 'ceilMode': True})
avg_grad_case('unbatched CHW', (3, 6, 6), 2)
avg_grad_case('int32 gradOutput becomes float32', (1, 2, 4, 4), 2, dtype=torch.int32)
avg_grad_case('zero batch', (0, 2, 4, 4), 2)
avg_grad_case('non-contiguous gradOutput', (1, 3, 6, 6), 2, perm_shape=[0, 2, 3, 1])

write('conv_grad', c)
