"""The gradients of K stacked MLPs' losses, written out: a forward pass into buffers kept from
step to step, then the backward pass by hand, a chunk of trials at a time.

Why not autograd: on these small models a step is a few dozen kernels over tensors of about
a megabyte, and autograd allocates every intermediate afresh; on a CPU each fresh tensor of
that size is new memory from the system (page faults on first touch) and out of the cache.
Measured on the curve MLP (500 trials, 160 points, 2 x 32 Tanh, one thread, chunks of 50):
the gradients alone took 0.65x the CPU time of autograd's over the same chunks, and a whole
100-step run_batch 0.89x (SGD) and 0.91x (Adam), the batched matrix products now being most
of what is left (docs/PERFORMANCE.md).

The arithmetic is torch's backward kernels', term for term: nn.MSELoss's 2 (o - y) / M, each
activation's derivative from its output as torch writes it (tanh: 1 - a^2; sigmoid:
(1 - a) a; relu: a > 0) or from its input (leaky_relu, elu), and nn.Linear's products, grad^T
input for the weight and a sum over points for the bias. tests/test_vectorised.py holds it to
the sequential trainer at float64 within 1e-9.
"""

from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F

from bench.learners.autograd import Layer

# Activations whose derivative is read from their output, so applied in place on the buffer;
# the others keep their input as well.
IN_PLACE = {
    "identity": lambda a, c: a,
    "relu": lambda a, c: a.relu_(),
    "tanh": lambda a, c: a.tanh_(),
    "sigmoid": lambda a, c: a.sigmoid_(),
}
# The derivative as autograd computes it, tanh_backward and sigmoid_backward themselves, with
# an output argument where the installed torch has one (2.x; not 1.10, which computes it
# term by term below). Measured on the curve MLP (500 trials, 2 x 32 Tanh, one thread): the
# gradients of a step 16.2 ms before, 13.8-14.2 ms after.
FUSED = {
    kind: overload
    for kind, overload in (
        ("tanh", getattr(torch.ops.aten.tanh_backward, "grad_input", None)),
        ("sigmoid", getattr(torch.ops.aten.sigmoid_backward, "grad_input", None)),
    )
    if overload is not None
}
FROM_INPUT = {
    "leaky_relu": lambda z, c: F.leaky_relu(z, c),
    "elu": lambda z, c: F.elu(z, c),
}


# A layer with one input or one output (the curve MLP's first and last) is an outer product
# or a matrix-vector product per trial; as a batched matrix product in nn.Linear's orientation
# torch runs it at a fraction of the speed of the same arithmetic turned around. Measured, 50
# trials of 160 points x 32 wide, one thread: the first layer 64 -> 28 us (addcmul), the last
# 112 -> 40 us (weight times the input transposed), the first layer's weight gradient 114 ->
# 25 us. A (K, 1, m) and a (K, m, 1) tensor lie the same way in memory, so the turned-around
# product writes straight into the buffer. The arithmetic per value is the same products and
# sums, only their order within one dot product differs (tests/test_vectorised.py holds it to
# the sequential trainer at float64).


def linear(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """nn.Linear over each trial: inputs (n, N, in), weight (n, out, in), bias (n, 1, out)."""
    n, points, width = out.shape
    if weight.shape[2] == 1:  # one input: an outer product, the bias added
        return torch.addcmul(bias, inputs, weight.transpose(1, 2), out=out)
    if width == 1:  # one output: weight (n, 1, in) times inputs^T, as a row per trial
        torch.baddbmm(bias, weight, inputs.transpose(1, 2), out=out.view(n, 1, points))
        return out
    return torch.baddbmm(bias, inputs, weight.transpose(1, 2), out=out)


def _weight_gradient(grad: torch.Tensor, inputs: torch.Tensor, out: torch.Tensor) -> None:
    """grad^T inputs per trial: grad (n, N, out), inputs (n, N, in) -> out (n, out, in)."""
    n, rows, columns = out.shape
    if columns == 1:  # one input: inputs^T grad is the same values as a row
        torch.bmm(inputs.transpose(1, 2), grad, out=out.view(n, 1, rows))
    else:
        torch.bmm(grad.transpose(1, 2), inputs, out=out)


def _input_gradient(grad: torch.Tensor, weight: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """grad weight per trial: grad (n, N, out), weight (n, out, in) -> out (n, N, in)."""
    if weight.shape[1] == 1:  # one output: an outer product
        return torch.mul(grad, weight, out=out)
    return torch.bmm(grad, weight, out=out)


def _times_derivative(kind: str, c: float, grad: torch.Tensor, a: torch.Tensor, z, scratch) -> torch.Tensor:
    """grad (with respect to the activation's output a, input z) -> with respect to z."""
    if kind == "identity":
        return grad
    if kind in FUSED:  # torch's own backward kernel, in place: one pass instead of four
        return FUSED[kind](grad, a, grad_input=grad)
    if kind == "tanh":  # tanh_backward: grad * (1 - a^2)
        return grad.mul_(torch.mul(a, a, out=scratch[: len(a)]).neg_().add_(1.0))
    if kind == "sigmoid":  # sigmoid_backward: grad * (1 - a) * a
        return grad.mul_(torch.neg(a, out=scratch[: len(a)]).add_(1.0)).mul_(a)
    if kind == "relu":  # threshold_backward on the result: grad where a > 0
        return grad.masked_fill_(a <= 0, 0.0)
    if kind == "leaky_relu":  # leaky_relu_backward: grad where z > 0, else c grad
        return torch.where(z > 0, grad, grad * c)
    if kind == "elu":  # elu_backward on the input: grad where z > 0, else grad c exp(z)
        return torch.where(z > 0, grad, grad * c * torch.exp(torch.clamp(z, max=0.0)))
    raise ValueError(f"no derivative written for activation {kind!r}")


def forward(
    layers: Sequence[Layer], params: Sequence[torch.Tensor], x: torch.Tensor, outputs: Sequence[torch.Tensor]
):
    """The stacked MLP over one chunk of trials, each Linear layer's output written into its
    buffer in ``outputs`` and activated there in place where the activation allows. Returns
    the output and, per Linear layer, what its backward pass needs: (its input, its activated
    output, the activation, the activation's input)."""
    trace = []  # type: List[Tuple[torch.Tensor, torch.Tensor, Layer, torch.Tensor]]
    current, index = x, 0
    for layer in layers:
        if layer.kind == "linear":
            weight, bias = params[2 * index], params[2 * index + 1]
            out = linear(current, weight, bias, outputs[index])
            trace.append((current, out, Layer("identity", 0.0), out))
            current, index = out, index + 1
        elif layer.kind in IN_PLACE:
            IN_PLACE[layer.kind](current, layer.constant)
            trace[-1] = (trace[-1][0], current, layer, current)
        else:
            z = current.clone()  # the derivative needs the input
            current = FROM_INPUT[layer.kind](z, layer.constant)
            trace[-1] = (trace[-1][0], current, layer, z)
    return current, trace


class MLPStep:
    """Buffers for one chunk size and the step that fills them; one per batch."""

    def __init__(self, layers: Sequence[Layer], params: Sequence[torch.Tensor], rows: int, points: int):
        self.layers = list(layers)
        self.rows = rows
        widths = [p.shape[1] for p in params[::2]]  # each Linear layer's outputs
        like = params[0]
        new = lambda width: torch.empty((rows, points, width), dtype=like.dtype, device=like.device)  # noqa: E731
        self.outputs = [new(w) for w in widths]  # each Linear's output, then its activation's
        self.back = [new(p.shape[2]) for p in params[::2]]  # gradient with respect to each input
        # term-by-term derivatives need a buffer; torch's fused ones (FUSED) do not
        written_out = any(layer.kind in ("tanh", "sigmoid") and layer.kind not in FUSED for layer in layers)
        self.scratch = [new(w) if written_out else None for w in widths]
        self.grads = [torch.empty_like(p) for p in params]
        # every trial's error (output - target), kept until the whole step's losses are taken
        # at once: one reduction a step instead of one per chunk
        self.errors = torch.empty((like.shape[0], points, widths[-1]), dtype=like.dtype, device=like.device)
        self.output_grad = new(widths[-1])
        self._given, self._views = (), []  # type: Tuple, List[Tuple]

    def gradients(
        self, params: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, losses: torch.Tensor
    ) -> List[torch.Tensor]:
        """Every trial's gradients (in ``params``' order, a buffer reused next step) and its
        loss before the step, written into ``losses`` (K,)."""
        for chunk in self._chunks(params, x, y):
            self._chunk(*chunk)
        losses.copy_((self.errors * self.errors).mean(dim=(1, 2)))  # nn.MSELoss's, per trial
        return self.grads

    def _chunks(self, params, x, y) -> List[Tuple]:
        """Each chunk's views of the parameters, the data and the buffers: made again only when
        a tensor changes (the update writes in place; data batches and survivors are new)."""
        given = (*params, x, y)
        if len(given) != len(self._given) or any(a is not b for a, b in zip(given, self._given)):
            trials = params[0].shape[0]
            self._given, self._views = given, []
            for start in range(0, trials, self.rows):
                part = slice(start, min(start + self.rows, trials))
                n = part.stop - part.start
                self._views.append((
                    [p[part] for p in params], x[part], y[part],
                    [o[:n] for o in self.outputs], [b[:n] for b in self.back],
                    self.errors[part], self.output_grad[:n], [g[part] for g in self.grads],
                ))  # fmt: skip
        return self._views

    def _chunk(self, params, x, y, outputs, back, errors, output_grad, grads) -> None:
        current, trace = forward(self.layers, params, x, outputs)
        # the loss's gradient, nn.MSELoss's 2 (o - y) / M over a trial's M elements, in a buffer
        # of its own: an output activation's derivative still needs the output, the loss the error
        error = torch.sub(current, y, out=errors)
        grad = torch.mul(error, 2.0 / (error.shape[1] * error.shape[2]), out=output_grad)
        # backward
        for index in reversed(range(len(trace))):
            inputs, out, activation, z = trace[index]
            if activation.kind != "identity":
                grad = _times_derivative(
                    activation.kind, activation.constant, grad, out, z, self.scratch[index]
                )
            _weight_gradient(grad, inputs, grads[2 * index])
            torch.sum(grad, dim=1, keepdim=True, out=grads[2 * index + 1])
            if index:
                grad = _input_gradient(grad, params[2 * index], back[index])


def buffers_for(
    cache: Dict[Tuple, MLPStep], layers, params: Sequence[torch.Tensor], rows: int, points: int
) -> MLPStep:
    """The step's buffers for this chunk size, point count and trial count, made once."""
    key = (rows, points, params[0].shape[0], params[0].dtype, params[0].device)
    if key not in cache:
        cache.clear()  # a batch's trial count only falls: the old buffers are not needed again
        cache[key] = MLPStep(layers, params, rows, points)
    return cache[key]
