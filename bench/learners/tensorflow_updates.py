"""The updates of implementation ``tensorflow``, two ways (the trial's ``tf_updates``).

* ``manual``: the tutorial's way, ``W.assign_sub(lr * dW)``, written out for every optimizer
  with torch.optim's formulas (those of bench.learners.update_rules), in TensorFlow ops on
  tf.Variables, so that they also run inside a tf.function.
* ``keras``: the Keras optimizer of the same name, its hyper-parameters set to match torch's
  where Keras has the same knob. What cannot be matched is listed in docs/TENSORFLOW.md with
  its measured effect; in short:
  - weight_decay: Keras' is decoupled (p -= lr wd p) in every optimizer; torch's is L2 in all
    but AdamW, so for those it is folded into the gradient here, as torch does, and Keras'
    own is left off. AdamW's is Keras' own: the same formula as torch's.
  - Adagrad: initial_accumulator_value 0 (torch's; Keras' default is 0.1); Keras adds eps
    inside the square root, torch outside; torch's lr_decay is a learning-rate callable.
  - RMSprop: rho = torch's alpha; Keras adds eps inside the root, so it gets eps**2 there:
    both denominators then tend to eps as the average tends to 0.
  - Adam, AdamW: Keras adds eps to sqrt(v) before the bias correction (the paper's "eps
    hat"), torch after it; the same eps is passed.
  - momentum: Keras keeps the velocity -lr b where torch keeps b: the same iterates at a
    constant learning rate; Keras has no dampening (refused unless 0).

Either way an update is a callable taking the gradients, in the variables' order.
"""

from typing import Any, Callable, Dict, Sequence

from bench import optimizers

UPDATES = ("keras", "manual")


def hyper_parameters(name: str, hyper: Dict[str, Any]) -> Dict[str, Any]:
    """bench.optimizers' (torch's) defaults for ``name``, overridden by ``hyper``, as floats."""
    spec = optimizers.OPTIMIZERS.get(name)
    if spec is None:
        raise ValueError(
            "optimizer {!r} has no TensorFlow update; those with one: {}".format(
                name, ", ".join(optimizers.OPTIMIZERS)
            )
        )
    unknown = sorted(set(hyper) - set(spec.hyper))
    if unknown:
        raise ValueError(
            "optimizer {!r} takes no hyper-parameter {}; it takes: {}".format(
                name, ", ".join(repr(k) for k in unknown), ", ".join(spec.hyper)
            )
        )
    values = dict(spec.hyper)
    values.update(hyper)
    return {
        k: tuple(float(b) for b in v) if isinstance(v, (list, tuple)) else float(v) for k, v in values.items()
    }


def build(tf, how: str, name: str, lr: float, hyper: Dict[str, Any], variables: Sequence[Any]) -> Callable:
    if how == "manual":
        return ManualUpdate(tf, name, lr, hyper, variables)
    if how == "keras":
        return KerasUpdate(tf, name, lr, hyper, variables)
    raise ValueError("tf_updates must be one of {}, got {!r}".format(", ".join(UPDATES), how))


class ManualUpdate:
    """torch.optim's update rules with assign / assign_sub. The state is tf.Variables made
    now (zeros) and a step counter, so the rule has no Python branch on the step: inside a
    tf.function it is traced once."""

    def __init__(self, tf, name: str, lr: float, hyper: Dict[str, Any], variables: Sequence[Any]):
        self.tf = tf
        self.name = name
        self.lr = float(lr)
        self.h = hyper_parameters(name, hyper)
        self.variables = list(variables)
        self.step_count = tf.Variable(0, dtype=tf.int64, trainable=False)
        slots = {
            "sgd": (),
            "momentum": ("buffer",),
            "nesterov": ("buffer",),
            "adagrad": ("sum",),
            "rmsprop": ("square_avg", "buffer"),
            "adam": ("m", "v"),
            "adamw": ("m", "v"),
        }[name]
        self.state = [
            {slot: tf.Variable(tf.zeros_like(v), trainable=False) for slot in slots} for v in self.variables
        ]

    def __call__(self, grads: Sequence[Any]) -> None:
        tf = self.tf
        for p, g, state in zip(self.variables, grads, self.state):
            t = tf.cast(self.step_count + 1, p.dtype)  # torch's step, from 1
            getattr(self, "_" + self.name)(p, g, state, t)
        self.step_count.assign_add(1)

    def _l2(self, p, g):
        weight_decay = self.h.get("weight_decay", 0.0)
        return g + weight_decay * p if weight_decay else g

    def _sgd(self, p, g, state, t):
        p.assign_sub(self.lr * self._l2(p, g))

    def _momentum(self, p, g, state, t, nesterov=False):
        g = self._l2(p, g)
        momentum, dampening = self.h["momentum"], self.h.get("dampening", 0.0)
        buffer = state["buffer"]
        # torch's first step copies g undamped: b_1 = g, not (1 - dampening) g.
        buffer.assign(self.tf.where(t > 1, momentum * buffer + (1 - dampening) * g, g))
        p.assign_sub(self.lr * (g + momentum * buffer if nesterov else buffer))

    def _nesterov(self, p, g, state, t):
        self._momentum(p, g, state, t, nesterov=True)

    def _adagrad(self, p, g, state, t):
        g = self._l2(p, g)
        state["sum"].assign_add(g * g)
        decayed = self.lr / (1 + (t - 1) * self.h["lr_decay"])
        p.assign_sub(decayed * (g / (self.tf.sqrt(state["sum"]) + self.h["eps"])))

    def _rmsprop(self, p, g, state, t):
        g = self._l2(p, g)
        alpha = self.h["alpha"]
        state["square_avg"].assign(alpha * state["square_avg"] + (1 - alpha) * g * g)
        scaled = g / (self.tf.sqrt(state["square_avg"]) + self.h["eps"])
        if self.h["momentum"] > 0:
            state["buffer"].assign(self.h["momentum"] * state["buffer"] + scaled)
            scaled = state["buffer"]
        p.assign_sub(self.lr * scaled)

    def _adam(self, p, g, state, t, decoupled=False):
        beta1, beta2 = self.h["betas"]
        if decoupled:
            p.assign(p * (1 - self.lr * self.h["weight_decay"]))  # before the moments, as torch
        else:
            g = self._l2(p, g)
        state["m"].assign(beta1 * state["m"] + (1 - beta1) * g)
        state["v"].assign(beta2 * state["v"] + (1 - beta2) * g * g)
        denom = self.tf.sqrt(state["v"]) / self.tf.sqrt(1 - beta2**t) + self.h["eps"]
        p.assign_sub(self.lr / (1 - beta1**t) * (state["m"] / denom))

    def _adamw(self, p, g, state, t):
        self._adam(p, g, state, t, decoupled=True)


class KerasUpdate:
    """The Keras optimizer matching ``name``, with torch's hyper-parameters where Keras has them."""

    def __init__(self, tf, name: str, lr: float, hyper: Dict[str, Any], variables: Sequence[Any]):
        import keras

        h = hyper_parameters(name, hyper)
        self.tf = tf
        self.variables = list(variables)
        dtype = self.variables[0].dtype
        # A callable learning rate: a float would become a float32 Keras variable, rounding
        # lr even where the model is float64.
        rate = tf.constant(float(lr), dtype=dtype)
        learning_rate = lambda: rate  # noqa: E731
        self.l2 = h.get("weight_decay", 0.0) if name != "adamw" else 0.0
        if name in ("sgd", "momentum", "nesterov"):
            if h.get("dampening", 0.0):
                raise ValueError(
                    "Keras' SGD has no dampening (got {:g}); use tf_updates: manual for it".format(
                        h["dampening"]
                    )
                )
            optimizer = keras.optimizers.SGD(
                learning_rate=learning_rate, momentum=h.get("momentum", 0.0), nesterov=name == "nesterov"
            )
        elif name == "adagrad":
            if h["lr_decay"]:
                decay = h["lr_decay"]
                # torch: lr / (1 + (t - 1) lr_decay) at step t = iterations + 1
                learning_rate = lambda: rate / (1 + decay * tf.cast(optimizer.iterations, dtype))  # noqa: E731
            optimizer = keras.optimizers.Adagrad(
                learning_rate=learning_rate, initial_accumulator_value=0.0, epsilon=h["eps"]
            )
        elif name == "rmsprop":
            optimizer = keras.optimizers.RMSprop(
                learning_rate=learning_rate, rho=h["alpha"], momentum=h["momentum"], epsilon=h["eps"] ** 2
            )
        elif name == "adam":
            beta1, beta2 = h["betas"]
            optimizer = keras.optimizers.Adam(
                learning_rate=learning_rate, beta_1=beta1, beta_2=beta2, epsilon=h["eps"]
            )
        elif name == "adamw":
            beta1, beta2 = h["betas"]
            optimizer = keras.optimizers.AdamW(
                learning_rate=learning_rate, weight_decay=h["weight_decay"], beta_1=beta1, beta_2=beta2,
                epsilon=h["eps"],
            )  # fmt: skip
        else:  # hyper_parameters has refused names outside bench.optimizers
            raise AssertionError(name)
        optimizer.build(self.variables)  # its slots now: a tf.function must not create them
        self.optimizer = optimizer

    def __call__(self, grads: Sequence[Any]) -> None:
        if self.l2:
            grads = [g + self.l2 * p for g, p in zip(grads, self.variables)]
        self.optimizer.apply_gradients(zip(grads, self.variables))
