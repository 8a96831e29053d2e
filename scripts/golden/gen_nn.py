"""Golden values for linear algebra and NN ops (group 'nn'): matmul, softmax, logSoftmax,
layerNorm, conv2d, maxPool2d, avgPool2d."""
import torch
import torch.nn.functional as F
from golden import Cases, R, randn, write

g = torch.Generator().manual_seed(7)
c = Cases()
F32 = dict(rtol=1e-5, atol=1e-5)  # float32 sums: PyTorch accumulates in float32, Kiln in float64
INF, NAN = float('inf'), float('nan')


def ints(*shape, lo=-5, hi=6):
    return torch.randint(lo, hi, shape, generator=g, dtype=torch.int32)


# ---- matmul -------------------------------------------------------------------------------
for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
    tol = F32 if dtype == torch.float32 else {}
    for sa, sb in [((3, 4), (4, 5)), ((1, 7), (7, 1)), ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)),
                   ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (2, 4, 5))]:
        c.add('matmul', f'{dn} {list(sa)} @ {list(sb)}', [randn(*sa, dtype=dtype, g=g), randn(*sb, dtype=dtype, g=g)],
              [R(0), R(1)], torch.matmul, **tol)
c.add('matmul', 'f32 larger [33,65] @ [65,17]', [randn(33, 65, g=g), randn(65, 17, g=g)], [R(0), R(1)], torch.matmul, rtol=1e-4, atol=1e-5)
c.add('matmul', 'int32', [ints(3, 4), ints(4, 2)], [R(0), R(1)], torch.matmul)
c.add('matmul', 'int32 batched 1-D', [ints(5), ints(2, 5, 3)], [R(0), R(1)], torch.matmul)
c.add('matmul', 'int32 wraps', [torch.tensor([[65536, 65536]], dtype=torch.int32), torch.tensor([[65536], [3]], dtype=torch.int32)],
      [R(0), R(1)], lambda a, b: (a.long() @ b.long()).to(torch.int32))
c.add('matmul', 'int32 @ f32 promotes', [ints(2, 3), randn(3, 2, g=g)], [R(0), R(1)], lambda a, b: a.float() @ b, **F32)
c.add('matmul', 'f64 @ f32 promotes', [randn(2, 3, dtype=torch.float64, g=g), randn(3, 2, g=g)], [R(0), R(1)], lambda a, b: a @ b.double())
c.add('matmul', 'zero rows [0,3] @ [3,2]', [torch.zeros(0, 3), randn(3, 2, g=g)], [R(0), R(1)], torch.matmul)
c.add('matmul', 'zero inner [2,0] @ [0,3]', [torch.zeros(2, 0), torch.zeros(0, 3)], [R(0), R(1)], torch.matmul)
c.add('matmul', 'zero batch [0,2,3] @ [3,4]', [torch.zeros(0, 2, 3), randn(3, 4, g=g)], [R(0), R(1)], torch.matmul)
c.add('matmul', 'NaN and ±Inf', [torch.tensor([[0., 1.], [1., 1.], [NAN, 0.]]), torch.tensor([[INF, 1.], [1., -INF]])],
      [R(0), R(1)], torch.matmul)
c.add('matmul', 'non-contiguous aᵀ', [randn(4, 3, g=g), randn(4, 5, g=g)], [R(0, [1, 0]), R(1)], torch.matmul, **F32)
c.add('matmul', 'non-contiguous bᵀ batched', [randn(2, 3, 4, g=g), randn(2, 5, 4, g=g)], [R(0), R(1, [0, 2, 1])], torch.matmul, **F32)

# ---- softmax / logSoftmax -----------------------------------------------------------------
for name, fn in [('softmax', torch.softmax), ('logSoftmax', torch.log_softmax)]:
    def run(x, axis=-1, fn=fn):
        return fn(x, axis)
    for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
        c.add(name, f'{dn} [3,5] default axis', [randn(3, 5, dtype=dtype, g=g) * 3], [R(0)], run)
        c.add(name, f'{dn} [2,3,4] axis 1', [randn(2, 3, 4, dtype=dtype, g=g) * 3], [R(0), 1], run)
    c.add(name, 'axis 0', [randn(4, 3, g=g)], [R(0), 0], run)
    c.add(name, 'negative axis -2', [randn(2, 3, 4, g=g)], [R(0), -2], run)
    c.add(name, 'large values stay finite', [torch.tensor([[1000., 1001., 1002.], [-1000., -1001., -1e30]])], [R(0)], run)
    c.add(name, 'NaN and ±Inf rows', [torch.tensor([[NAN, 1., 2.], [INF, 1., 2.], [-INF, -INF, -INF], [-INF, 0., 1.]])], [R(0)], run)
    c.add(name, 'zero-size [0,3]', [torch.zeros(0, 3)], [R(0)], run)
    c.add(name, 'empty axis [3,0]', [torch.zeros(3, 0)], [R(0), 1], run)
    c.add(name, 'scalar', [torch.tensor(0.3)], [R(0)], run)
    c.add(name, 'int32 becomes float32', [ints(2, 4)], [R(0)], lambda x, fn=fn: fn(x.float(), -1))
    c.add(name, 'non-contiguous', [randn(5, 3, g=g)], [R(0, [1, 0]), 1], run)

# ---- layerNorm ----------------------------------------------------------------------------
LN = dict(rtol=1e-5, atol=1e-5)
for dtype, dn in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
    tol = LN if dtype == torch.float32 else {}
    x = randn(4, 6, dtype=dtype, g=g) * 2 + 1
    w, b = randn(6, dtype=dtype, g=g), randn(6, dtype=dtype, g=g)
    c.add('layerNorm', f'{dn} [4,6] affine', [x, w, b], [R(0), [6], R(1), R(2)], F.layer_norm, **tol)
    c.add('layerNorm', f'{dn} [4,6] plain', [x], [R(0), [6]], F.layer_norm, **tol)
    x3 = randn(2, 3, 4, dtype=dtype, g=g)
    c.add('layerNorm', f'{dn} [2,3,4] over [3,4]', [x3, randn(3, 4, dtype=dtype, g=g), randn(3, 4, dtype=dtype, g=g)],
          [R(0), [3, 4], R(1), R(2)], F.layer_norm, **tol)
c.add('layerNorm', 'weight only', [randn(3, 5, g=g), randn(5, g=g)], [R(0), [5], R(1)], F.layer_norm, **LN)
c.add('layerNorm', 'bias only, eps 1e-2', [randn(3, 5, g=g), randn(5, g=g)], [R(0), [5], None, R(1), 1e-2],
      F.layer_norm, **LN)
c.add('layerNorm', 'whole tensor [2,3]', [randn(2, 3, g=g)], [R(0), [2, 3]], F.layer_norm, **LN)
c.add('layerNorm', 'constant rows (zero variance)', [torch.full((2, 4), 3.5), randn(4, g=g)], [R(0), [4], None, R(1)], F.layer_norm, **LN)
c.add('layerNorm', 'NaN and Inf rows', [torch.tensor([[NAN, 1., 2.], [INF, 1., 2.], [1., 2., 4.]])], [R(0), [3]], F.layer_norm, **LN)
c.add('layerNorm', 'zero batch [0,4]', [torch.zeros(0, 4)], [R(0), [4]], F.layer_norm)
c.add('layerNorm', 'int32 becomes float32', [ints(2, 4)], [R(0), [4]], lambda x, s: F.layer_norm(x.float(), s), **LN)
c.add('layerNorm', 'f32 x, f64 weight promotes', [randn(2, 4, g=g), randn(4, dtype=torch.float64, g=g)], [R(0), [4], R(1)],
      lambda x, s, w: F.layer_norm(x.double(), s, w))
c.add('layerNorm', 'non-contiguous', [randn(5, 3, g=g)], [R(0, [1, 0]), [5]], F.layer_norm, **LN)

# ---- conv2d -------------------------------------------------------------------------------
def conv(x, w, b=None, opts=None):
    return F.conv2d(x, w, b, **{k: v for k, v in (opts or {}).items() if k in ('stride', 'padding', 'dilation', 'groups')})


def conv_case(name, inputs, opts=None, bias=True, **tol):
    args = [R(0), R(1), R(2) if bias else None] + ([opts] if opts else [])
    c.add('conv2d', name, inputs, args, conv, **({**F32, **tol} if inputs[0].dtype == torch.float32 else tol))


conv_case('f32 [2,3,7,7] * [4,3,3,3] + bias', [randn(2, 3, 7, 7, g=g), randn(4, 3, 3, 3, g=g), randn(4, g=g)])
conv_case('f64 [2,3,7,7] * [4,3,3,3] + bias', [randn(2, 3, 7, 7, dtype=torch.float64, g=g), randn(4, 3, 3, 3, dtype=torch.float64, g=g),
                                               randn(4, dtype=torch.float64, g=g)])
conv_case('no bias', [randn(1, 2, 5, 6, g=g), randn(3, 2, 2, 3, g=g)], bias=False)
conv_case('stride 2 padding 1', [randn(2, 3, 8, 7, g=g), randn(4, 3, 3, 3, g=g), randn(4, g=g)], {'stride': 2, 'padding': 1})
conv_case('stride [1,2] padding [2,0]', [randn(1, 2, 6, 9, g=g), randn(3, 2, 3, 2, g=g), randn(3, g=g)], {'stride': [1, 2], 'padding': [2, 0]})
conv_case('dilation 2 padding 2', [randn(1, 2, 9, 9, g=g), randn(2, 2, 3, 3, g=g), randn(2, g=g)], {'dilation': 2, 'padding': 2})
conv_case('dilation [1,3] stride 3', [randn(1, 1, 10, 11, g=g), randn(2, 1, 2, 3, g=g)], {'dilation': [1, 3], 'stride': 3}, bias=False)
conv_case('groups 2', [randn(2, 4, 5, 5, g=g), randn(6, 2, 3, 3, g=g), randn(6, g=g)], {'groups': 2})
conv_case('depthwise groups 3', [randn(1, 3, 6, 6, g=g), randn(6, 1, 3, 3, g=g), randn(6, g=g)], {'groups': 3, 'padding': 1})
conv_case('1x1 kernel', [randn(2, 5, 3, 4, g=g), randn(7, 5, 1, 1, g=g), randn(7, g=g)])
conv_case('kernel as large as the padded input', [randn(1, 2, 3, 4, g=g), randn(2, 2, 5, 4, g=g), randn(2, g=g)], {'padding': [1, 0]})
conv_case('padding larger than the kernel', [randn(1, 1, 3, 3, g=g), randn(1, 1, 2, 2, g=g)], {'padding': 3}, bias=False)
conv_case('unbatched CHW', [randn(3, 6, 5, g=g), randn(2, 3, 3, 3, g=g), randn(2, g=g)], {'padding': 1})
conv_case('int32', [ints(1, 2, 5, 5), ints(3, 2, 3, 3), ints(3)], {'padding': 1})
conv_case('zero batch', [torch.zeros(0, 2, 5, 5), randn(3, 2, 3, 3, g=g), randn(3, g=g)])
xn = randn(1, 1, 5, 5, g=g)
xn[0, 0, 1, 1] = NAN
xn[0, 0, 4, 4] = INF
conv_case('NaN and Inf input', [xn, randn(1, 1, 2, 2, g=g)], bias=False)
c.add('conv2d', 'non-contiguous x (NHWC view)', [randn(2, 6, 5, 3, g=g), randn(4, 3, 3, 3, g=g)], [R(0, [0, 3, 1, 2]), R(1), None],
      conv, **F32)
c.add('conv2d', 'f32 x, f64 weight promotes', [randn(1, 2, 4, 4, g=g), randn(2, 2, 3, 3, dtype=torch.float64, g=g)], [R(0), R(1)],
      lambda x, w: F.conv2d(x.double(), w))

# ---- maxPool2d ----------------------------------------------------------------------------
def pool_case(op, name, inputs, kernel, opts=None, torch_fn=None, perm=None, **tol):
    torch_opts = {({'ceilMode': 'ceil_mode', 'countIncludePad': 'count_include_pad'}).get(k, k): v for k, v in (opts or {}).items()}
    fn = torch_fn or (F.max_pool2d if op == 'maxPool2d' else F.avg_pool2d)
    args = [R(0, perm), kernel] + ([opts] if opts else [])
    c.add(op, name, inputs, args, lambda x, k, o=None: fn(x, k, **torch_opts), **tol)


for op in ['maxPool2d', 'avgPool2d']:
    pool_case(op, 'f32 [2,3,8,8] k2', [randn(2, 3, 8, 8, g=g)], 2)
    pool_case(op, 'f64 [1,2,7,9] k3 s2 p1', [randn(1, 2, 7, 9, dtype=torch.float64, g=g)], 3, {'stride': 2, 'padding': 1})
    pool_case(op, 'k [2,3] stride [1,2]', [randn(1, 2, 6, 7, g=g)], [2, 3], {'stride': [1, 2]})
    pool_case(op, 'k3 s2 ceilMode', [randn(1, 1, 8, 8, g=g)], 3, {'stride': 2, 'ceilMode': True})
    pool_case(op, 'k2 s2 p1 ceilMode on 5x5', [torch.arange(25.).reshape(1, 1, 5, 5)], 2, {'stride': 2, 'padding': 1, 'ceilMode': True})
    pool_case(op, 'unbatched CHW', [randn(3, 6, 6, g=g)], 2)
    pool_case(op, 'zero batch', [torch.zeros(0, 2, 4, 4)], 2)
    pool_case(op, 'non-contiguous (NHWC view)', [randn(2, 6, 6, 3, g=g)], 3, {'stride': 1}, perm=[0, 3, 1, 2])
    pool_case(op, 'NaN and ±Inf', [torch.tensor([[[[NAN, 1., 2., 3.], [4., 5., INF, 6.], [-INF, -INF, 7., 8.], [-INF, -INF, 9., 1.]]]])], 2)
pool_case('maxPool2d', 'dilation 2 padding 1', [randn(1, 2, 9, 9, g=g)], 3, {'dilation': 2, 'padding': 1})
pool_case('maxPool2d', 'dilation [2,1] ceilMode', [randn(1, 1, 8, 7, g=g)], 2, {'dilation': [2, 1], 'ceilMode': True, 'stride': 2})
pool_case('maxPool2d', 'padding is -Inf, not 0', [-randn(1, 1, 4, 4, g=g).abs() - 1], 3, {'stride': 1, 'padding': 1})
pool_case('maxPool2d', 'int32 (PyTorch via float64)', [ints(1, 2, 6, 6, lo=-100, hi=100)], 2,
          torch_fn=lambda x, k: F.max_pool2d(x.double(), k).to(torch.int32))
pool_case('avgPool2d', 'k3 s2 p1 countIncludePad false', [randn(1, 2, 7, 9, g=g)], 3, {'stride': 2, 'padding': 1, 'countIncludePad': False})
pool_case('avgPool2d', 'ceilMode countIncludePad false', [torch.arange(25.).reshape(1, 1, 5, 5)], 2,
          {'stride': 2, 'padding': 1, 'ceilMode': True, 'countIncludePad': False})
pool_case('avgPool2d', 'k3 s2 p1 ceilMode', [torch.arange(25.).reshape(1, 1, 5, 5)], 3, {'stride': 2, 'padding': 1, 'ceilMode': True})
pool_case('avgPool2d', 'int32 truncates (PyTorch int64)', [ints(1, 2, 6, 6, lo=-100, hi=100)], 2, {'padding': 1},
          torch_fn=lambda x, k, **o: F.avg_pool2d(x.long(), k, **o))

write('nn', c)
