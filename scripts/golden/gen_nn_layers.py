"""Golden values for @kiln/nn's layers: each case builds a torch.nn layer, runs it forward on fixed
inputs, then backward on sum(output * cotangent) with fixed cotangents, and records the layer's
state dict (PyTorch names; the Kiln test converts snake_case to camelCase), the inputs, the
outputs, the input gradients, the parameter gradients and the state after the call (running
statistics). The Kiln test builds the same layer, loads the state with loadStateDict and
compares. Run with Debian's python3-torch: /usr/bin/python3 scripts/golden/gen_nn_layers.py
Writes packages/nn/test/golden/nn_layers.json.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import encode as encode_exact

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'nn', 'test', 'golden', 'nn_layers.json')
g = torch.Generator().manual_seed(2024)
cases = []


def randn(*shape, dtype=torch.float32, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def randomize(module, scale=0.5):
    """Replaces every parameter and float buffer with fixed random values (so biases that init
    to zero, LayerNorm's ones, running statistics… are exercised)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(randn(*p.shape, dtype=p.dtype, scale=scale))
        for name, b in module.named_buffers():
            if b.dtype.is_floating_point:
                v = randn(*b.shape, dtype=b.dtype, scale=scale)
                b.copy_(v.abs() + 0.5 if 'var' in name else v)
    return module


def encode(t):
    """encode() with float32 values printed to 9 significant digits (enough to round-trip float32)."""
    e = encode_exact(t)
    if e['dtype'] == 'float32':
        e['data'] = [float('%.9g' % v) if isinstance(v, float) else v for v in e['data']]
    return e


def ref(i):
    return {'ref': i}


def case(name, layer, args, options, module, inputs, train, forward='unary', forward_options=None, torch_call=None,
         rtol=1e-4, atol=1e-5, randomize_state=True):
    """Records one layer call. inputs: torch tensors (float ones get gradients); forward_options:
    Kiln's forward options, with {'ref': i} for tensors among inputs; torch_call(module, inputs)
    runs the PyTorch layer (default module(inputs[0]))."""
    torch.manual_seed(0)
    if randomize_state:
        randomize(module)
    module.train(train)
    state = {k: encode(v) for k, v in module.state_dict().items()}
    xs = [x.clone().requires_grad_(x.dtype.is_floating_point) for x in inputs]
    result = torch_call(module, xs) if torch_call else module(xs[0])
    outputs = [o for o in (result if isinstance(result, (tuple, list)) else [result]) if o is not None]
    cotangents = [randn(*o.shape, dtype=o.dtype) for o in outputs]
    loss = sum((o * c).sum() for o, c in zip(outputs, cotangents))
    loss.backward()
    cases.append({
        'name': name,
        'layer': layer,
        'args': args,
        'options': options,
        'train': train,
        'forward': forward,
        'forwardOptions': forward_options or {},
        'state': state,
        'inputs': [encode(x) for x in inputs],
        'outputs': [encode(o) for o in outputs],
        'cotangents': [encode(c) for c in cotangents],
        'inputGrads': [encode(x.grad) if x.grad is not None else None for x in xs],
        'paramGrads': {k: encode(p.grad) for k, p in module.named_parameters() if p.grad is not None},
        'stateAfter': {k: encode(v) for k, v in module.state_dict().items()},
        'rtol': rtol,
        'atol': atol,
    })


# ---- Linear ---------------------------------------------------------------------------------
case('Linear [3,4] → 5', 'Linear', [4, 5], {}, nn.Linear(4, 5), [randn(3, 4)], True)
case('Linear no bias, 3-D input', 'Linear', [4, 2], {'bias': False}, nn.Linear(4, 2, bias=False), [randn(2, 3, 4)], True)
case('Linear float64', 'Linear', [3, 2], {'dtype': 'float64'}, nn.Linear(3, 2).double(), [randn(4, 3, dtype=torch.float64)], True,
     rtol=1e-10, atol=1e-12)

# ---- Conv2d ---------------------------------------------------------------------------------
case('Conv2d 3→4 k3 padding 1', 'Conv2d', [3, 4, 3], {'padding': 1}, nn.Conv2d(3, 4, 3, padding=1), [randn(2, 3, 5, 5)], True)
case('Conv2d stride 2, dilation 2, groups 2, no bias', 'Conv2d', [4, 6, [3, 2]], {'stride': 2, 'dilation': [2, 1], 'groups': 2, 'bias': False},
     nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(2, 1), groups=2, bias=False), [randn(2, 4, 9, 7)], True)
case("Conv2d padding 'same', even kernel", 'Conv2d', [2, 3, [2, 4]], {'padding': 'same'}, nn.Conv2d(2, 3, (2, 4), padding='same'),
     [randn(1, 2, 5, 6)], True)
case('Conv2d unbatched [C,H,W]', 'Conv2d', [2, 2, 3], {'padding': [0, 1]}, nn.Conv2d(2, 2, 3, padding=(0, 1)), [randn(2, 4, 4)], True)

# ---- pooling --------------------------------------------------------------------------------
case('MaxPool2d 2', 'MaxPool2d', [2], {}, nn.MaxPool2d(2), [randn(2, 3, 4, 6)], True)
case('MaxPool2d 3 stride 2 padding 1 ceilMode', 'MaxPool2d', [3], {'stride': 2, 'padding': 1, 'ceilMode': True},
     nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), [randn(1, 2, 6, 5)], True)
case('MaxPool2d dilation 2', 'MaxPool2d', [[2, 2]], {'stride': 1, 'dilation': 2}, nn.MaxPool2d((2, 2), stride=1, dilation=2),
     [randn(1, 1, 5, 5)], True)
case('AvgPool2d 2', 'AvgPool2d', [2], {}, nn.AvgPool2d(2), [randn(2, 3, 4, 4)], True)
case('AvgPool2d 3 stride 2 padding 1 ceilMode, countIncludePad false', 'AvgPool2d', [3],
     {'stride': 2, 'padding': 1, 'ceilMode': True, 'countIncludePad': False},
     nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), [randn(1, 2, 6, 5)], True)

# ---- shaping and activations ---------------------------------------------------------------
case('Flatten default', 'Flatten', [], None, nn.Flatten(), [randn(2, 3, 2, 2)], True)
case('Flatten 0..1', 'Flatten', [0, 1], None, nn.Flatten(0, 1), [randn(2, 3, 4)], True)
case('ReLU', 'ReLU', [], None, nn.ReLU(), [randn(3, 4)], True)
case('GELU', 'GELU', [], {}, nn.GELU(), [randn(3, 4, scale=2)], True)
case("GELU approximate 'tanh'", 'GELU', [], {'approximate': 'tanh'}, nn.GELU(approximate='tanh'), [randn(3, 4, scale=2)], True)
case('Tanh', 'Tanh', [], None, nn.Tanh(), [randn(3, 4)], True)
case('Sigmoid', 'Sigmoid', [], None, nn.Sigmoid(), [randn(3, 4)], True)
case('Softmax dim 1', 'Softmax', [1], None, nn.Softmax(dim=1), [randn(2, 3, 4, scale=2)], True)
case('Softmax dim -1', 'Softmax', [-1], None, nn.Softmax(dim=-1), [randn(3, 5, scale=2)], True)
case('Dropout p=0 in training', 'Dropout', [0], None, nn.Dropout(0.0), [randn(3, 4)], True)
case('Dropout p=0.5 in eval', 'Dropout', [0.5], None, nn.Dropout(0.5), [randn(3, 4)], False)

# ---- normalization --------------------------------------------------------------------------
case('BatchNorm1d [N,C] train', 'BatchNorm1d', [3], {}, nn.BatchNorm1d(3), [randn(5, 3, scale=2)], True)
case('BatchNorm1d [N,C,L] train', 'BatchNorm1d', [3], {'momentum': 0.3}, nn.BatchNorm1d(3, momentum=0.3), [randn(4, 3, 5)], True)
case('BatchNorm1d eval', 'BatchNorm1d', [3], {}, nn.BatchNorm1d(3), [randn(5, 3)], False)
bn = nn.BatchNorm1d(2, momentum=None)
bn.num_batches_tracked.fill_(3)
case('BatchNorm1d momentum null (cumulative average)', 'BatchNorm1d', [2], {'momentum': None}, bn, [randn(4, 2)], True)
case('BatchNorm1d affine false train', 'BatchNorm1d', [3], {'affine': False}, nn.BatchNorm1d(3, affine=False), [randn(4, 3)], True)
case('BatchNorm1d trackRunningStats false eval', 'BatchNorm1d', [3], {'trackRunningStats': False},
     nn.BatchNorm1d(3, track_running_stats=False), [randn(4, 3)], False)
case('BatchNorm2d train', 'BatchNorm2d', [3], {}, nn.BatchNorm2d(3), [randn(2, 3, 3, 4, scale=3)], True)
case('BatchNorm2d eval', 'BatchNorm2d', [3], {'eps': 1e-3}, nn.BatchNorm2d(3, eps=1e-3), [randn(2, 3, 3, 4)], False)
case('LayerNorm [4,6] over 6', 'LayerNorm', [6], {}, nn.LayerNorm(6), [randn(4, 6, scale=2)], True)
case('LayerNorm over [3,4], eps 1e-3', 'LayerNorm', [[3, 4]], {'eps': 1e-3}, nn.LayerNorm([3, 4], eps=1e-3), [randn(2, 3, 4)], True)
case('LayerNorm without affine', 'LayerNorm', [5], {'elementwiseAffine': False}, nn.LayerNorm(5, elementwise_affine=False),
     [randn(3, 5)], True)


class LayerNormNoBias(nn.Module):
    """LayerNorm(bias=False) of newer PyTorch, which 1.13 lacks: a weight and no bias."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.n = n

    def forward(self, x):
        return F.layer_norm(x, (self.n,), self.weight, None, 1e-5)


case('LayerNorm bias false', 'LayerNorm', [4], {'bias': False}, LayerNormNoBias(4), [randn(3, 4)], True)

# ---- Embedding ------------------------------------------------------------------------------
idx = torch.tensor([[1, 4, 2], [0, 4, 3]])
case('Embedding', 'Embedding', [5, 3], {}, nn.Embedding(5, 3), [idx], True)
case('Embedding paddingIdx (no gradient to the padding row)', 'Embedding', [5, 3], {'paddingIdx': 4},
     nn.Embedding(5, 3, padding_idx=4), [idx], True)
case('Embedding negative paddingIdx', 'Embedding', [5, 2], {'paddingIdx': -5}, nn.Embedding(5, 2, padding_idx=-5), [idx], True)

# ---- Sequential -----------------------------------------------------------------------------
case('Sequential Linear-ReLU-Linear', 'Sequential:mlp', [], None, nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)),
     [randn(3, 4)], True)

# ---- MultiheadAttention --------------------------------------------------------------------
def mha_call(kpm=None, attn_mask=None, need_weights=True, average=True):
    def call(m, xs):
        k = {'need_weights': need_weights, 'average_attn_weights': average}
        if kpm is not None:
            k['key_padding_mask'] = xs[kpm]
        if attn_mask is not None:
            k['attn_mask'] = xs[attn_mask]
        return m(xs[0], xs[1], xs[2], **k)
    return call


def mha_options(kpm=None, attn_mask=None, need_weights=True, average=True):
    o = {'needWeights': need_weights, 'averageAttnWeights': average}
    if kpm is not None:
        o['keyPaddingMask'] = ref(kpm)
    if attn_mask is not None:
        o['attnMask'] = ref(attn_mask)
    return o


def mha_case(name, options, module, inputs, train=True, **call):
    case(name, 'MultiheadAttention', [module.embed_dim, module.num_heads], options, module, inputs, train, forward='mha',
         forward_options=mha_options(**call), torch_call=mha_call(**call))


x = randn(4, 2, 8)
mha_case('MHA self-attention [L,N,E]', {}, nn.MultiheadAttention(8, 2), [x, x, x])
mha_case('MHA eval mode', {}, nn.MultiheadAttention(8, 2), [x, x, x], train=False)
xb = randn(2, 4, 8)
kpm = torch.tensor([[False, False, True, False], [False, True, True, False]])
mha_case('MHA batchFirst, bool keyPaddingMask', {'batchFirst': True}, nn.MultiheadAttention(8, 2, batch_first=True),
         [xb, xb, xb, kpm], kpm=3)
causal = torch.triu(torch.full((4, 4), float('-inf')), 1)
mha_case('MHA float causal attnMask, per-head weights', {'batchFirst': True}, nn.MultiheadAttention(8, 4, batch_first=True),
         [xb, xb, xb, causal], attn_mask=3, average=False)
mask3 = torch.rand(2 * 2, 4, 3, generator=g) > 0.7
mask3[:, :, 0] = False  # every query keeps at least one key
q, kv = randn(4, 2, 6), randn(3, 2, 6)
mha_case('MHA cross-attention, bool 3-D attnMask and keyPaddingMask', {}, nn.MultiheadAttention(6, 2),
         [q, kv, randn(3, 2, 6), mask3, torch.tensor([[False, False, True], [False, False, False]])], attn_mask=3, kpm=4)
mha_case('MHA kdim/vdim differ, needWeights false', {'kdim': 5, 'vdim': 3}, nn.MultiheadAttention(6, 3, kdim=5, vdim=3),
         [randn(2, 2, 6), randn(3, 2, 5), randn(3, 2, 3)], need_weights=False)
mha_case('MHA unbatched [L,E], no bias', {'bias': False}, nn.MultiheadAttention(4, 2, bias=False), [randn(3, 4), randn(5, 4), randn(5, 4)])

# ---- TransformerEncoderLayer ---------------------------------------------------------------
def enc_call(mask=None, kpm=None):
    def call(m, xs):
        return m(xs[0], src_mask=xs[mask] if mask is not None else None, src_key_padding_mask=xs[kpm] if kpm is not None else None)
    return call


def enc_options(mask=None, kpm=None):
    o = {}
    if mask is not None:
        o['srcMask'] = ref(mask)
    if kpm is not None:
        o['srcKeyPaddingMask'] = ref(kpm)
    return o


def enc_case(name, args, options, module, inputs, train=True, **call):
    case(name, 'TransformerEncoderLayer', args, options, module, inputs, train, forward='encoder', forward_options=enc_options(**call),
         torch_call=enc_call(**call), rtol=2e-4, atol=5e-5)


enc_case('TransformerEncoderLayer post-LN relu [L,N,E]', [8, 2], {'dimFeedforward': 16, 'dropout': 0},
         nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), [randn(5, 2, 8)])
enc_case('TransformerEncoderLayer normFirst gelu batchFirst, padding mask', [8, 4],
         {'dimFeedforward': 12, 'dropout': 0, 'activation': 'gelu', 'normFirst': True, 'batchFirst': True},
         nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.0, activation='gelu', norm_first=True, batch_first=True),
         [randn(2, 5, 8), torch.tensor([[False] * 5, [False, False, False, True, True]])], kpm=1)
enc_case('TransformerEncoderLayer causal srcMask, eval', [6, 2], {'dimFeedforward': 10, 'layerNormEps': 1e-4},
         nn.TransformerEncoderLayer(6, 2, dim_feedforward=10, layer_norm_eps=1e-4), [randn(4, 3, 6), torch.triu(torch.full((4, 4), float('-inf')), 1)],
         train=False, mask=1)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump({'generator': 'scripts/golden/gen_nn_layers.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
    f.write('\n')
print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)}', file=sys.stderr)
