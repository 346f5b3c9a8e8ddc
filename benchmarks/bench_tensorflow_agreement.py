"""How far TensorFlow's trajectory is from torch's, per optimizer: the figures of docs/TENSORFLOW.md.

    python benchmarks/bench_tensorflow_agreement.py [--steps 500]

Same data, same initial weights (the torch model's, seed 0), the learning rates of
tests/test_tensorflow.py; for each problem, optimizer, dtype and way of updating (by hand,
by Keras), the largest relative difference of the per-step losses from torch.optim's, and
the first step at which it exceeds 1e-12. Then the causes, each isolated in float64 on
linear-multi: torch given Keras' float32 momentum and betas; Keras' Adagrad with torch's
initial accumulator against Keras' default 0.1; Keras' eps placement. Also the median step
time of each (one thread, eager and tf.function). Prints numbers; asserts nothing.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from test_tensorflow import LRS, OPTIMIZERS, _losses, _problem  # noqa: E402


def relative(got, want):
    r = np.abs(got - want) / np.abs(want)
    above = np.nonzero(r > 1e-12)[0]
    return float(r.max()), (int(above[0]) + 1 if len(above) else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # "autograd": torch's own hand-written implementation against torch.optim, the same way: where
    # it too parts from torch.optim, the trajectory amplifies rounding (chaos), whatever the framework.
    print("problem       optimizer  dtype    updates  max rel. loss diff  first step > 1e-12  autograd's")
    for problem in ("linear-noisy", "linear-multi", "curve"):
        for optimizer in OPTIMIZERS:
            lr = LRS.get(problem, {}).get(
                optimizer, 0.001 if optimizer in ("adam", "adamw", "rmsprop") else 0.01
            )
            for dtype in (torch.float64, torch.float32):
                model, x, y = _problem(problem, dtype)
                want, _ = _losses("torch", model, x, y, optimizer, lr, steps=args.steps)
                own, _ = _losses("autograd", model, x, y, optimizer, lr, steps=args.steps)
                for updates in ("manual", "keras"):
                    got, _ = _losses(
                        "tensorflow", model, x, y, optimizer, lr, steps=args.steps, updates=updates
                    )
                    worst, first = relative(got, want)
                    name = str(dtype).replace("torch.", "")
                    print(f"{problem:<13} {optimizer:<10} {name:<8} {updates:<8} {worst:<19.2e} {first!s:<19} "
                          f"{relative(own, want)[0]:.2e}")  # fmt: skip
    print()
    print("causes, float64, linear-multi:")
    model, x, y = _problem("linear-multi", torch.float64)
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    for optimizer, lr, as_keras in [
        ("momentum", 0.1, {"momentum": f32(0.9)}),
        ("nesterov", 0.1, {"momentum": f32(0.9)}),
    ]:
        keras, _ = _losses("tensorflow", model, x, y, optimizer, lr, steps=args.steps, updates="keras")
        exact, _ = _losses("torch", model, x, y, optimizer, lr, steps=args.steps)
        same, _ = _losses("torch", model, x, y, optimizer, lr, as_keras, steps=args.steps)
        print(f"  {optimizer}: keras vs torch {relative(keras, exact)[0]:.2e}; vs torch with momentum "
              f"float32(0.9) {relative(keras, same)[0]:.2e}")  # fmt: skip
    for optimizer in ("adam", "adamw"):
        keras, _ = _losses("tensorflow", model, x, y, optimizer, 0.01, steps=args.steps, updates="keras")
        exact, _ = _losses("torch", model, x, y, optimizer, 0.01, steps=args.steps)
        betas, _ = _losses(
            "torch", model, x, y, optimizer, 0.01, {"betas": [f32(0.9), f32(0.999)]}, steps=args.steps
        )
        no_eps_k, _ = _losses(
            "tensorflow", model, x, y, optimizer, 0.01, {"eps": 0.0}, steps=args.steps, updates="keras"
        )
        no_eps_t, _ = _losses("torch", model, x, y, optimizer, 0.01, {"eps": 0.0}, steps=args.steps)
        print(f"  {optimizer}: keras vs torch {relative(keras, exact)[0]:.2e}; torch with float32 betas vs torch "
              f"{relative(betas, exact)[0]:.2e}; both with eps 0 {relative(no_eps_k, no_eps_t)[0]:.2e}")  # fmt: skip
    import keras as keras_module  # Keras' default initial accumulator, 0.1, on the same data

    from bench.learners import tensorflow_updates

    exact, _ = _losses("torch", model, x, y, "adagrad", 0.5, steps=args.steps)
    keras, learner = _losses("tensorflow", model, x, y, "adagrad", 0.5, steps=args.steps, updates="keras")
    original = keras_module.optimizers.Adagrad
    keras_module.optimizers.Adagrad = lambda **kw: original(**dict(kw, initial_accumulator_value=0.1))
    try:
        default, _ = _losses("tensorflow", model, x, y, "adagrad", 0.5, steps=args.steps, updates="keras")
    finally:
        keras_module.optimizers.Adagrad = original
    print(f"  adagrad: keras (accumulator 0, eps inside the root) vs torch {relative(keras, exact)[0]:.2e}; "
          f"with Keras' default accumulator 0.1 {relative(default, exact)[0]:.2e}")  # fmt: skip
    del tensorflow_updates, learner
    print()
    print("landscapes, Keras against torch.optim (path distance over the path's largest norm, noise 0.1):")
    from test_landscapes_reference import relative_difference
    from test_tensorflow import _landscape_path

    for function in ("quadratic", "rosenbrock"):
        for optimizer in OPTIMIZERS:
            want = _landscape_path(function, optimizer, "torch")
            keras = relative_difference(
                _landscape_path(function, optimizer, "tensorflow", updates="keras"), want
            )
            manual = relative_difference(
                _landscape_path(function, optimizer, "tensorflow", updates="manual"), want
            )
            own = relative_difference(_landscape_path(function, optimizer, "autograd"), want)
            print(
                f"  {function:<11} {optimizer:<9} keras {keras:.2e}  manual {manual:.2e}  autograd {own:.2e}"
            )
    print()
    print("median step time, one thread, float32, linear-noisy, adam (us):")
    model, x, y = _problem("linear-noisy", torch.float32)
    for label, implementation, settings in [
        ("torch", "torch", {}),
        ("tensorflow keras eager", "tensorflow", {"updates": "keras"}),
        ("tensorflow manual eager", "tensorflow", {"updates": "manual"}),
        ("tensorflow keras tf.function", "tensorflow", {"updates": "keras", "compiled": True}),
        ("tensorflow manual tf.function", "tensorflow", {"updates": "manual", "compiled": True}),
    ]:
        _, learner = _losses(implementation, model, x, y, "adam", 0.1, steps=50, **settings)
        times = []
        for _ in range(300):
            started = time.perf_counter()
            learner.step(x, y)
            times.append(time.perf_counter() - started)
        print(f"  {label:<30} {1e6 * float(np.median(times)):8.0f}")


if __name__ == "__main__":
    main()
