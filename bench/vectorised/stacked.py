"""K trials' MLPs as one: each layer's weights stacked along a leading trial dimension.

Trial k's weight of a Linear layer is ``weights[k]``, shaped as nn.Linear's (out, in); its
bias is ``biases[k]``, kept as (1, out) so that every parameter is 3-D and one (K, 1, 1)
tensor of learning rates broadcasts against all of them. The forward pass is one batched
product per layer (bench.vectorised.mlp_step.linear: the bias plus x @ W^T, as nn.Linear's
addmm, turned around where a layer has one input or one output), the activations
elementwise; the backward pass is written out (bench.vectorised.mlp_step), each trial's
gradient its own. Written with operations torch 1.10 has: no torch.func.
"""

from typing import Any, Dict, Sequence, Tuple

import torch
from torch import nn

from bench.learners import update_rules
from bench.learners.autograd import read_mlp
from bench.vectorised import updates
from bench.vectorised.mlp_step import MLPStep, buffers_for, forward

IMPLEMENTATION = "vectorised"  # how read_mlp names us in its refusals

# On a CPU, a step's forward and backward go a chunk of trials at a time, CHUNK_VALUES
# activation values per thread (the widest layer's outputs over the batch's points, summed
# over the chunk's trials): a chunk's activations and their gradients then stay in each core's
# cache between the layers' kernels instead of streaming through memory. 16 curve trials (160
# points x 32 wide) are 328 KB a buffer, and the pass keeps about five such buffers live: under
# the 2 MB of L2 a core has here. Measured on the curve MLP (500 trials, one thread): chunks of
# 50 trials took 0.73x (SGD) and 0.67x (Adam) the CPU time of one pass over all 500 (with
# autograd's gradients, 100 steps of run_batch); with the written-out pass, chunks of 16 took
# 0.90-0.94x the time of chunks of 50 (300 steps, 3 interleaved pairs); on two threads, 32
# and 50 measured the same (docs/PERFORMANCE.md).
CHUNK_VALUES = 16 * 160 * 32


def chunk_rows(values_per_trial: int, device: torch.device) -> int:
    """How many trials a chunk holds; on a GPU all of them (one launch is what it wants)."""
    if device.type != "cpu":
        return 1 << 62
    return max(1, CHUNK_VALUES * torch.get_num_threads() // max(values_per_trial, 1))


class StackedMLP:
    """The parameters of K MLPs of one architecture (bench.problems.mlp.build_mlp), stacked."""

    def __init__(self, models: Sequence[nn.Module]):
        self.layers, first = read_mlp(models[0], IMPLEMENTATION)  # type: List[Layer], List[nn.Linear]
        linears = [read_mlp(model, IMPLEMENTATION)[1] for model in models]
        self.params = []  # type: List[torch.Tensor]
        for index in range(len(first)):
            weight = torch.stack([layers[index].weight.detach() for layers in linears])
            bias = torch.stack([layers[index].bias.detach().unsqueeze(0) for layers in linears])
            self.params += [weight.clone(), bias.clone()]  # gradients by hand: no autograd
        self.widest = max(p.shape[1] for p in self.params[::2])  # the widest layer's outputs
        self._steps: Dict[Tuple, MLPStep] = {}

    def to(self, device: torch.device) -> "StackedMLP":
        self.params = [p.to(device) for p in self.params]
        return self

    @property
    def trials(self) -> int:
        return self.params[0].shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (K, N, inputs) -> (K, N, outputs); a chunk of trials at a time on a CPU, through
        buffers made once a call, for the cache (as train_step's forward pass)."""
        trials, points = x.shape[0], x.shape[1]
        rows = min(trials, chunk_rows(points * self.widest, x.device))
        widths = [p.shape[1] for p in self.params[::2]]
        result = x.new_empty((trials, points, widths[-1]))
        hidden = [x.new_empty((rows, points, width)) for width in widths[:-1]]
        for start in range(0, trials, rows):
            part = slice(start, min(start + rows, trials))
            outputs = [h[: part.stop - part.start] for h in hidden] + [result[part]]
            output, _ = forward(self.layers, [p[part] for p in self.params], x[part], outputs)
            if output is not outputs[-1]:  # an activation that is not applied in place
                outputs[-1].copy_(output)
        return result

    def losses(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each trial's mean squared error (nn.MSELoss's mean over its own elements): (K,)."""
        error = self.forward(x) - y
        return (error * error).mean(dim=(1, 2))

    def prepare(self, steps: int) -> None:
        pass  # nothing to allocate before the timed loop

    def train_step(self, x: torch.Tensor, y: torch.Tensor, update: "StackedUpdate") -> torch.Tensor:
        """One step of every trial; their losses before it, (K,)."""
        points = x.shape[1]
        rows = min(self.trials, chunk_rows(points * self.widest, x.device))
        step = buffers_for(self._steps, self.layers, self.params, rows, points)
        losses = x.new_empty(self.trials)
        update.step(self.params, step.gradients(self.params, x, y, losses))
        return losses

    def evaluate(self, x_eval, y_eval, x_test, y_test) -> Tuple[torch.Tensor, torch.Tensor]:
        """(the training objective, the test metric: both the mean squared error) per trial."""
        return self.losses(x_eval, y_eval), self.losses(x_test, y_test)

    def linear_layer(self, row: int) -> Dict[str, Any]:
        """Row ``row``'s single Linear layer, as bench.problems.linear.learned_parameters gives it."""
        weight, bias = self.params[0][row], self.params[1][row, 0]
        return {
            "weight": weight.detach().cpu().double().tolist(),
            "bias": bias.detach().cpu().double().tolist(),
        }

    def keep(self, rows: torch.Tensor) -> None:
        """Only these rows (trials) from now on."""
        self.params = [p[rows] for p in self.params]


class StackedUpdate:
    """One optimizer's hand-written update (bench.vectorised.updates: torch.optim's arithmetic,
    in place) applied to stacked parameters, with one learning rate per trial.

    The trials of one batch share the optimizer and its other hyper-parameters (the rules
    branch on them: momentum or none, weight decay or none); the learning rate is a (K, 1, ...)
    tensor, which every rule multiplies by and never branches on. State (moments, buffers)
    is stacked like the parameters, so a trial's state is row k of each tensor."""

    def __init__(self, name: str, lrs: Sequence[float], hyper: Dict[str, Any], like: torch.Tensor):
        function, variant = updates.RULES[name]
        self.function = function
        self.fixed = dict(update_rules.arguments(name, hyper), **variant)
        # (K, 1, ...): one rate per trial, broadcast against parameters shaped like ``like``
        shape = (-1,) + (1,) * (like.dim() - 1)
        self.lr = torch.tensor(list(lrs), dtype=like.dtype, device=like.device).reshape(shape)
        self.states = None  # type: Any

    def step(self, params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor]) -> None:
        if self.states is None:
            self.states = [{} for _ in params]
        with torch.no_grad():
            for p, g, state in zip(params, grads, self.states):
                self.function(p, g, state, lr=self.lr, **self.fixed)

    def keep(self, rows: torch.Tensor) -> None:
        self.lr = self.lr[rows]
        for state in self.states or ():
            for key, value in state.items():
                if isinstance(value, torch.Tensor):  # a step count is a plain int, shared
                    state[key] = value[rows]
