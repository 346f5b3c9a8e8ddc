"""Implementation ``tensorflow`` on the landscapes: theta as a float64 tf.Variable, f written
with the same operators as torch's (bench.surfaces), its gradient from tf.GradientTape, the
update by hand or by Keras (bench.learners.tensorflow_updates), eager or as a tf.function.

Like the other point learners it records theta after every step into a buffer allocated by
``prepare``, and adds the same pre-drawn gradient noise, so that its path is comparable step
for step with torch's.
"""

from typing import Any, Dict

import numpy as np
import torch

from bench.learners import tensorflow_runtime, tensorflow_updates
from bench.learners.landscape import _PointLearner
from bench.problems.landscapes import Point


class TensorflowPointLearner(_PointLearner):
    def __init__(
        self,
        model: Point,
        optimizer: str,
        lr: float,
        hyper: Dict[str, Any],
        updates: str = "keras",
        compiled: bool = False,
        threads: int = 1,
    ):
        super().__init__(model)
        if model.theta.device.type != "cpu":
            raise ValueError("the tensorflow implementation runs on the CPU only (tensorflow-cpu); use device 'cpu'")  # fmt: skip
        tf = self.tf = tensorflow_runtime.start(threads)
        self.theta = tf.Variable(model.theta.detach().numpy().copy())  # float64, as torch's
        self.update = tensorflow_updates.build(tf, updates, optimizer, lr, hyper, [self.theta])
        self._zero_noise = tf.zeros(2, dtype=tf.float64)
        self._train_step = self._eager_step
        if compiled:  # traced now, not in the first timed step; no autograph (see tensorflow_tape)
            signature = [tf.TensorSpec([2], tf.float64)]
            self._train_step = tf.function(self._eager_step, input_signature=signature, autograph=False)
            self._train_step.get_concrete_function()

    def prepare(self, steps: int) -> None:
        self._path = np.empty((steps + 1, 2))
        self._path[0] = self.theta.numpy()
        if self.model.noise_sd:
            self.noise = self.tf.constant(self._noise_table(steps))

    def _eager_step(self, noise):
        with self.tf.GradientTape() as tape:
            loss = self.surface.value(self.theta[0], self.theta[1])
        self.update([tape.gradient(loss, self.theta) + noise])
        return loss

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        noise = self._zero_noise if self.noise is None else self.noise[self.steps_done]
        loss = self._train_step(noise)
        self.steps_done += 1
        self._path[self.steps_done] = self.theta.numpy()
        return torch.tensor(float(loss), dtype=torch.float64)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        theta = self.theta.numpy()
        with np.errstate(over="ignore", invalid="ignore"):
            return torch.tensor(float(self.surface.value(theta[0], theta[1])), dtype=torch.float64)

    def module(self) -> Point:
        with torch.no_grad():
            self.model.theta.copy_(torch.from_numpy(self.theta.numpy()))
        return self.model
