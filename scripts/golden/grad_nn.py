"""Gradient cases for matmul, softmax, layerNorm, convolution and pooling (used by gen_grad.py)."""
import torch
import torch.nn.functional as F
from golden import R
from grad_cases import rn, t

NAN, INF = float('nan'), float('inf')

POOL_OPTS = {'ceilMode': 'ceil_mode', 'countIncludePad': 'count_include_pad'}


def conv(x, w, b=None, opts=None):
    return F.conv2d(x, w, b, **(opts or {}))


def pool(op):
    fn = F.max_pool2d if op == 'maxPool2d' else F.avg_pool2d
    return lambda x, k, opts=None: fn(x, k, **{POOL_OPTS.get(key, key): v for key, v in (opts or {}).items()})


def conv_transpose(x, w, b=None, opts=None):
    o = dict(opts or {})
    return F.conv_transpose2d(x, w, b, stride=o.get('stride', 1), padding=o.get('padding', 0),
                              output_padding=o.get('outputPadding', 0), groups=o.get('groups', 1), dilation=o.get('dilation', 1))


def conv_weight_grad(x, g, kernel, opts=None):
    """conv2d's weight gradient as a differentiable function of x and g (conv2d is linear in w)."""
    o = opts or {}
    k = [kernel, kernel] if isinstance(kernel, int) else kernel
    w = torch.zeros(g.shape[-3], x.shape[-3] // o.get('groups', 1), *k, dtype=x.dtype, requires_grad=True)
    return torch.autograd.grad(F.conv2d(x, w, None, **o), w, g, create_graph=True)[0]


def avg_pool_grad(g, input_shape, kernel, opts=None):
    """avg_pool2d's input gradient as a differentiable function of the output gradient g."""
    x = torch.zeros(input_shape, dtype=g.dtype, requires_grad=True)
    return torch.autograd.grad(pool('avgPool2d')(x, kernel, opts), x, g, create_graph=True)[0]


def add_cases(c):
    for sa, sb in [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2)),
                   ((4,), (2, 4, 3)), ((2, 3, 4), (2, 4, 2))]:
        c.add('matmul', f'{list(sa)} @ {list(sb)}', [rn(*sa), rn(*sb)], [R(0), R(1)], torch.matmul)
    c.add('matmul', 'non-contiguous bᵀ', [rn(2, 3), rn(4, 3)], [R(0), R(1, [1, 0])], torch.matmul)

    for name, fn in [('softmax', torch.softmax), ('logSoftmax', torch.log_softmax)]:
        c.add(name, '[3,5] default axis', [rn(3, 5, scale=2)], [R(0)], lambda x, fn=fn: fn(x, -1))
        c.add(name, '[2,3,4] axis 1', [rn(2, 3, 4, scale=2)], [R(0), 1], fn)
        c.add(name, '[4,3] axis -2', [rn(4, 3, scale=2)], [R(0), -2], fn)
        c.add(name, 'large values', [t([[1000.0, 1001.0, 999.5], [-1000.0, -1001.0, -1002.0]])], [R(0)], lambda x, fn=fn: fn(x, -1))
        c.add(name, 'a fully masked row (NaN)', [t([[-INF, -INF, -INF], [0.0, 1.0, -INF]])], [R(0)], lambda x, fn=fn: fn(x, -1))
        c.add(name, 'masked with -inf (attention)', [t([[0.5, -INF, 1.0, -INF], [-INF, 2.0, -1.0, 0.0]])], [R(0)], lambda x, fn=fn: fn(x, -1))

    c.add('layerNorm', '[4,6] weight and bias', [rn(4, 6, scale=2, offset=1), rn(6), rn(6)], [R(0), [6], R(1), R(2)], F.layer_norm)
    c.add('layerNorm', '[3,5] plain', [rn(3, 5)], [R(0), [5]], F.layer_norm)
    c.add('layerNorm', 'weight only', [rn(3, 5), rn(5)], [R(0), [5], R(1)], F.layer_norm)
    c.add('layerNorm', 'bias only, eps 0.1', [rn(3, 5), rn(5)], [R(0), [5], None, R(1), 0.1], F.layer_norm)
    c.add('layerNorm', 'a constant row (zero variance)', [t([[1.5, 1.5, 1.5], [0.0, 1.0, 3.0]]), rn(3)], [R(0), [3], R(1)], F.layer_norm)
    c.add('layerNorm', '[2,3,4] over [3,4]', [rn(2, 3, 4), rn(3, 4), rn(3, 4)], [R(0), [3, 4], R(1), R(2)], F.layer_norm)

    def conv_case(name, inputs, opts=None, perm=None):
        bias = len(inputs) == 3
        args = [R(0, perm), R(1), R(2) if bias else None] + ([opts] if opts else [])
        c.add('conv2d', name, inputs, args, conv)

    conv_case('[2,3,5,5] * [4,3,3,3] + bias', [rn(2, 3, 5, 5), rn(4, 3, 3, 3), rn(4)])
    conv_case('no bias', [rn(1, 2, 4, 5), rn(3, 2, 2, 3)])
    conv_case('stride 2 padding 1', [rn(2, 2, 6, 5), rn(3, 2, 3, 3), rn(3)], {'stride': 2, 'padding': 1})
    conv_case('stride [1,2] padding [2,0]', [rn(1, 2, 5, 7), rn(2, 2, 3, 2), rn(2)], {'stride': [1, 2], 'padding': [2, 0]})
    conv_case('dilation 2 padding 2', [rn(1, 2, 6, 6), rn(2, 2, 3, 3), rn(2)], {'dilation': 2, 'padding': 2})
    conv_case('dilation [1,2] stride 2', [rn(1, 1, 7, 8), rn(2, 1, 2, 3)], {'dilation': [1, 2], 'stride': 2})
    conv_case('groups 2', [rn(2, 4, 4, 4), rn(6, 2, 3, 3), rn(6)], {'groups': 2})
    conv_case('depthwise groups 3 padding 1', [rn(1, 3, 4, 4), rn(6, 1, 3, 3), rn(6)], {'groups': 3, 'padding': 1})
    conv_case('unbatched CHW', [rn(3, 5, 4), rn(2, 3, 3, 3), rn(2)], {'padding': 1})
    conv_case('non-contiguous x (NHWC view)', [rn(1, 4, 5, 3), rn(2, 3, 2, 2)], perm=[0, 3, 1, 2])

    for op in ['maxPool2d', 'avgPool2d']:
        fn = pool(op)
        c.add(op, '[2,2,4,4] k2', [rn(2, 2, 4, 4)], [R(0), 2], fn)
        c.add(op, 'k3 s2 p1', [rn(1, 2, 5, 7)], [R(0), 3, {'stride': 2, 'padding': 1}], fn)
        c.add(op, 'k [2,3] stride [1,2] (overlapping windows)', [rn(1, 1, 4, 7)], [R(0), [2, 3], {'stride': [1, 2]}], fn)
        c.add(op, 'k3 s2 ceilMode', [rn(1, 1, 6, 6)], [R(0), 3, {'stride': 2, 'ceilMode': True}], fn)
        c.add(op, 'k2 s2 p1 ceilMode on 5x5', [rn(1, 1, 5, 5)], [R(0), 2, {'stride': 2, 'padding': 1, 'ceilMode': True}], fn)
        c.add(op, 'unbatched CHW', [rn(2, 4, 4)], [R(0), 2], fn)
    c.add('maxPool2d', 'dilation 2 padding 1', [rn(1, 1, 7, 7)], [R(0), 3, {'dilation': 2, 'padding': 1}], pool('maxPool2d'))
    # PyTorch gives a tied window's gradient to its first maximum (row-major), not a share to each.
    ties = t([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.0, 2.0, 2.0], [3.0, 3.0, -1.0, -1.0], [3.0, 3.0, -1.0, -1.0]]]])
    c.add('maxPool2d', 'ties go to the first maximum', [ties], [R(0), 2], pool('maxPool2d'))
    c.add('maxPool2d', 'NaN is the maximum (the last NaN takes the gradient)', [t([[[[1.0, NAN, 0.0, 2.0], [NAN, 2.0, 1.0, 1.0]]]])], [R(0), 2], pool('maxPool2d'))
    c.add('maxPool2d', 'overlapping windows share a maximum', [t([[[[0.0, 5.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 0.0]]]])],
          [R(0), 2, {'stride': 1}], pool('maxPool2d'))
    c.add('avgPool2d', 'k3 s2 p1 countIncludePad false', [rn(1, 2, 5, 7)], [R(0), 3, {'stride': 2, 'padding': 1, 'countIncludePad': False}],
          pool('avgPool2d'))
    c.add('avgPool2d', 'ceilMode countIncludePad false', [rn(1, 1, 5, 5)], [R(0), 2, {'stride': 2, 'padding': 1, 'ceilMode': True,
                                                                                      'countIncludePad': False}], pool('avgPool2d'))

    # The adjoints the conv/pool gradient rules are written with (differentiated for grad of grad).
    ct = conv_transpose
    c.add('conv2dTranspose', '[2,3,3,3] * [3,2,3,3] + bias', [rn(2, 3, 3, 3), rn(3, 2, 3, 3), rn(2)], [R(0), R(1), R(2)], ct)
    c.add('conv2dTranspose', 'stride 2 padding 1 outputPadding 1', [rn(1, 2, 3, 4), rn(2, 3, 3, 3)],
          [R(0), R(1), None, {'stride': 2, 'padding': 1, 'outputPadding': 1}], ct)
    c.add('conv2dTranspose', 'groups 2 dilation [1,2]', [rn(1, 4, 3, 3), rn(4, 1, 2, 2), rn(2)],
          [R(0), R(1), R(2), {'groups': 2, 'dilation': [1, 2]}], ct)
    c.add('conv2dTranspose', 'unbatched CHW', [rn(2, 3, 3), rn(2, 2, 2, 2)], [R(0), R(1)], ct)
    c.add('conv2dWeightGrad', 'k3 on [2,3,5,5]', [rn(2, 3, 5, 5), rn(2, 4, 3, 3)], [R(0), R(1), 3], conv_weight_grad)
    c.add('conv2dWeightGrad', 'k [2,3] stride 2 padding 1', [rn(1, 2, 5, 6), rn(1, 3, 3, 3)],
          [R(0), R(1), [2, 3], {'stride': 2, 'padding': 1}], conv_weight_grad)
    c.add('conv2dWeightGrad', 'groups 2 dilation 2', [rn(1, 4, 5, 5), rn(1, 2, 3, 3)], [R(0), R(1), 2, {'groups': 2, 'dilation': 2}],
          conv_weight_grad)
    c.add('avgPool2dGrad', 'k2 into [2,2,4,4]', [rn(2, 2, 2, 2)], [R(0), [2, 2, 4, 4], 2], avg_pool_grad)
    c.add('avgPool2dGrad', 'k3 s2 p1 ceilMode countIncludePad false', [rn(1, 1, 3, 3)],
          [R(0), [1, 1, 5, 5], 3, {'stride': 2, 'padding': 1, 'ceilMode': True, 'countIncludePad': False}], avg_pool_grad)
