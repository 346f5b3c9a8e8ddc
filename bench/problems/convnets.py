"""LeNet-5 on 32x32 digits, and the "training a classifier" tutorial's small CNN.

Both are the tutorials' networks: conv 6 and 16 channels of 5x5, 2x2 max-pooling, then
fully connected 120-84-10. LeNet reads one grey channel, the classifier three colours.
Default data is the 8x8 digits shipped in the package (no download); real MNIST (IDX
files) and CIFAR-10 (binary batches) load from a local directory.
"""

from typing import Any, Dict

import torch
from torch import nn

from bench import activations
from bench.problems import datasets
from bench.problems.base import Option, Problem, ProblemData, Target


class TutorialCNN(nn.Module):
    def __init__(self, channels: int, activation: str, dropout: float, batch_norm: bool):
        super().__init__()
        act = activations.factory(activation)
        norm2d = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
        norm1d = (lambda c: nn.BatchNorm1d(c)) if batch_norm else (lambda c: nn.Identity())
        drop = (lambda: nn.Dropout(dropout)) if dropout > 0 else nn.Identity
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, 5), norm2d(6), act(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), norm2d(16), act(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), norm1d(120), act(), drop(),
            nn.Linear(120, 84), norm1d(84), act(), drop(),
            nn.Linear(84, 10),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def _image_data(default_channels: int):
    def make(seed: int, options: Dict[str, Any]) -> ProblemData:
        # 0 in the suite means "all of it".
        sizes = {"train_size": options["train_size"] or None, "test_size": options["test_size"] or None}
        if options["data"] == "digits":
            split = datasets.load_digits_32(seed, channels=default_channels, train_size=sizes["train_size"])
        elif options["data"] == "mnist":
            split = datasets.load_mnist(_data_dir(options), seed, **sizes)
        else:
            split = datasets.load_cifar10(_data_dir(options), seed, channels=default_channels, **sizes)
        return ProblemData(
            torch.from_numpy(split.x_train), torch.from_numpy(split.y_train),
            torch.from_numpy(split.x_test), torch.from_numpy(split.y_test),
            notes={"data": split.source},
        )  # fmt: skip

    return make


def _data_dir(options: Dict[str, Any]) -> str:
    if not options["data_dir"]:
        raise ValueError("data: {} needs data_dir: the directory holding its files".format(options["data"]))
    return options["data_dir"]


def _cnn(channels: int):
    return lambda spec: TutorialCNN(channels, spec.activation, spec.dropout, spec.batch_norm)


def _options(data_choices):
    return {
        "data": Option("digits", "the data set", choices=data_choices),
        "data_dir": Option("", "directory with the data set's files (mnist, cifar10)"),
        "train_size": Option(0, "use a seeded subset of this many training images (0: all)", kind=int),
        "test_size": Option(0, "use a seeded subset of this many test images (0: all)", kind=int),
    }


_CNN_LR = {
    "sgd": (0.01, 0.1), "momentum": (0.01, 0.05), "nesterov": (0.01, 0.05),
    "adagrad": (0.01, 0.05), "rmsprop": (0.0005, 0.002), "adam": (0.0005, 0.002),
    "adamw": (0.0005, 0.002),
}  # fmt: skip

PROBLEMS = [
    Problem(
        name="lenet",
        summary="LeNet-5 (the PyTorch tutorial's) on 32x32 digits; MNIST from IDX files",
        task="classification",
        metric_name="accuracy",
        target=Target("metric", 0.95, "above"),
        make_data=_image_data(1),
        make_model=_cnn(1),
        default_steps=200,
        default_eval_every=20,
        default_activation="relu",
        takes_activation=True,
        takes_dropout=True,
        takes_batch_norm=True,
        options=_options(("digits", "mnist")),
        default_lr=_CNN_LR,
    ),
    Problem(
        name="classifier",
        summary="the 'training a classifier' tutorial's CNN on 3-channel 32x32 images; CIFAR-10 binary",
        task="classification",
        metric_name="accuracy",
        target=Target("metric", 0.9, "above"),
        make_data=_image_data(3),
        make_model=_cnn(3),
        default_steps=200,
        default_eval_every=20,
        default_activation="relu",
        takes_activation=True,
        takes_dropout=True,
        takes_batch_norm=True,
        options=_options(("digits", "cifar10")),
        default_lr=_CNN_LR,
    ),
]
