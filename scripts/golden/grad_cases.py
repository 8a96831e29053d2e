"""GradCases: golden gradients from PyTorch, for gen_grad.py.

A case is the forward golden of golden.py (op, inputs, args with R(i) refs, outputs) plus:
  grad     the indices of the inputs differentiated (default: every float input);
  weights  one fixed cotangent weight per output, of its shape and dtype;
  grads    torch.autograd.grad(Σ (outputs[k] * weights[k]).sum(), inputs[grad]), one per index.
Each spec becomes a float64 and a float32 case (float inputs cast; the float32 weights are the
float64 ones rounded), unless as_is=True keeps the inputs' dtypes (mixed-dtype cases).

The TypeScript runner is packages/eager/test/helpers/grad_golden.ts.
"""
import torch
from golden import _json_arg, _resolve, encode

VARIANTS = [(torch.float64, 'f64'), (torch.float32, 'f32')]
_g = torch.Generator().manual_seed(11)


def rn(*shape, scale=1.0, offset=0.0):
    """Normal samples (float64) from this module's fixed-seed generator."""
    return torch.randn(shape, generator=_g, dtype=torch.float64) * scale + offset


def pos(*shape):
    """Positive values away from 0: log, sqrt, rsqrt, pow bases, divisors."""
    return rn(*shape).abs() + 0.2


def t(values):
    return torch.tensor(values, dtype=torch.float64)


def idx(values):
    """An index tensor: int64 in PyTorch, int32 in Kiln."""
    return torch.tensor(values, dtype=torch.int64)


class GradCases:
    def __init__(self, seed):
        self.cases = []
        self.g = torch.Generator().manual_seed(seed)

    def add(self, op, name, inputs, args, torch_fn, grad=None, as_is=False, tol32=None, tol64=None, kiln_args=None):
        """Records the gradient of Σ op(*args)·w for the float64 and float32 versions of `inputs`.

        tol32/tol64: (rtol, atol) overrides for that variant; kiln_args: Kiln's args if they differ.
        """
        if grad is None:
            grad = [i for i, t in enumerate(inputs) if t.is_floating_point()]
        variants = [(None, name, tol64 if inputs[0].dtype == torch.float64 else tol32)] if as_is \
            else [(dt, f'{name} {dn}', tol64 if dt == torch.float64 else tol32) for dt, dn in VARIANTS]
        weights = None
        for dtype, label, tol in variants:
            xs = [t.detach().to(dtype) if dtype is not None and t.is_floating_point() else t.detach() for t in inputs]
            xs = [t.clone().requires_grad_(i in grad) for i, t in enumerate(xs)]
            result = torch_fn(*_resolve(args, xs))
            outs = list(result) if isinstance(result, (list, tuple)) else [result]
            if weights is None:
                weights = [torch.randn(tuple(o.shape), generator=self.g, dtype=torch.float64) for o in outs]
            ws = [w.to(o.dtype) for w, o in zip(weights, outs)]
            loss = sum((o * w).sum() for o, w in zip(outs, ws))
            grads = torch.autograd.grad(loss, [xs[i] for i in grad], allow_unused=True)
            grads = [torch.zeros_like(xs[i]) if d is None else d for i, d in zip(grad, grads)]
            case = {
                'op': op,
                'name': label,
                'inputs': [encode(t) for t in xs],
                'args': [_json_arg(a) for a in (kiln_args if kiln_args is not None else args)],
                'grad': list(grad),
                'weights': [encode(w) for w in ws],
                'outputs': [encode(o) for o in outs],
                'grads': [encode(d) for d in grads],
            }
            if tol is not None:
                case['rtol'], case['atol'] = tol
            self.cases.append(case)
