"""Golden gradients of every differentiable op (group 'grad', written to packages/eager/test/golden).

For each case PyTorch computes torch.autograd.grad((op(*inputs) * w).sum(), differentiable inputs)
with a fixed cotangent weight w per output, in float64 and float32 (grad_cases.py). Inputs avoid
points where the gradient is undefined, except where PyTorch has a convention Kiln follows on
purpose: abs and relu at 0, max/min ties split evenly, pow at 0, sqrt at 0, clamp at its bounds,
maxPool2d ties.

Run with Debian's python3-torch: /usr/bin/python3 scripts/golden/gen_grad.py
The TypeScript runner is packages/eager/test/helpers/grad_golden.ts.
"""
import os

import grad_elementwise
import grad_nn
import grad_reduce
import grad_shaping
from golden import write
from grad_cases import GradCases

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'eager', 'test', 'golden')

c = GradCases(seed=12)
grad_elementwise.add_unary(c)
grad_elementwise.add_binary(c)
grad_reduce.add_cases(c)
grad_shaping.add_cases(c)
grad_nn.add_cases(c)
write('grad', c, out_dir=OUT)
