"""Image data sets for the classifier problems, as numpy arrays of N x C x 32 x 32.

digits ships inside this package (bench/data/digits.csv.gz, 57 KB), so the default needs no
download and no scikit-learn: importing scikit-learn costs seconds and ~100 MB on a 4 GB
Jetson. The file is the test set (optdigits.tes, 1797 images) of the UCI "Optical
Recognition of Handwritten Digits" data set (E. Alpaydin and C. Kaynak, 1998,
https://doi.org/10.24432/C50P49; licence CC BY 4.0), copied unmodified from scikit-learn's
sklearn/datasets/data/digits.csv.gz (scikit-learn: BSD-3-Clause); it decodes to exactly the
images and labels of ``sklearn.datasets.load_digits()``. bench/data/README.md has the details.

MNIST (IDX files) and CIFAR-10 (binary version) are read from a directory the user filled
beforehand: a Jetson in a lab often has no network, so nothing here ever downloads. No torch
import either: the problem converts the arrays, and this module stays testable on the bare
numpy stack.
"""

import gzip
import os
import zlib
from dataclasses import dataclass  # novermin: the dataclasses backport is a 3.6 dependency
from typing import List, Optional, Sequence, Tuple

import numpy as np

NUM_CLASSES = 10
SIDE = 32  # LeNet-5's input size, and CIFAR-10's native one
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
IDX_IMAGES = 0x00000803  # IDX magic: unsigned bytes, 3 dimensions
IDX_LABELS = 0x00000801  # unsigned bytes, 1 dimension
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST_FILE = "test_batch.bin"
CIFAR_RECORD = 1 + 3 * SIDE * SIDE  # a label byte, then the R, G and B planes, row-major
# ITU-R BT.601 luma, the weights PIL's convert("L") and OpenCV use for grey.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
DIGITS_HINT = "or use `data: digits`, which needs no download"
# Found beside the code, as Python 3.6 has no importlib.resources; flit puts every file under
# bench/ into the wheel.
DIGITS_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "digits.csv.gz"
)
DIGITS_COLUMNS = 8 * 8 + 1  # the 8 x 8 pixels row by row, then the class
DIGITS_MAX = 16  # each pixel counts the "on" pixels of a 4 x 4 block


class DatasetError(ValueError):
    """A data set is missing or malformed; the message names the file and how to fix it."""


# eq=False: field-wise == on arrays has no single truth value, and would make it unhashable.
@dataclass(frozen=True, eq=False)
class ImageSplit:
    x_train: np.ndarray  # float32, N x C x 32 x 32, standardised with the training split's stats
    y_train: np.ndarray  # int64 class indices
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    source: str  # where the data came from, for the trial record


def load_digits_32(
    seed: int,
    channels: int = 1,
    test_fraction: float = 0.2,
    train_size: Optional[int] = None,
    standardise: bool = True,
) -> ImageSplit:
    """The bundled 8 x 8 digits (1797 images), laid out as MNIST is for LeNet.

    Each pixel becomes a 3 x 3 block (24 x 24), centred in 32 x 32 with a 4-pixel zero
    border, as MNIST's 28 x 28 sits centred in LeNet's 32 x 32. The split is stratified by
    class and seeded; ``train_size`` keeps a seeded subset of the training split.
    """
    _check_channels(channels)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    images, labels = read_digits()
    images = images.astype(np.float32) / np.float32(DIGITS_MAX)
    # RandomState's streams are frozen across numpy releases (NEP 19): a seed gives the same
    # split on the Nano's numpy 1.19 as on a workstation's current numpy.
    rng = np.random.RandomState(seed)
    test_parts = []
    for c in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == c))
        test_parts.append(members[: int(round(len(members) * test_fraction))])
    test_idx = np.sort(np.concatenate(test_parts))
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    train_idx = train_idx[_subset(len(train_idx), train_size, rng, "train_size", "digits")]
    x = _to_channels(_pad(np.repeat(np.repeat(images, 3, axis=1), 3, axis=2)), channels)
    parts = [x[train_idx], labels[train_idx], x[test_idx], labels[test_idx]]
    return _finish(parts, "digits (bundled: UCI optdigits test set)", standardise)


def read_digits(path: str = DIGITS_FILE) -> Tuple[np.ndarray, np.ndarray]:
    """The digits file as uint8 images (N x 8 x 8, 0..16) and int64 labels, as in the file.

    The same values, in the same order, as ``sklearn.datasets.load_digits()``'s ``images``
    and ``target``: both read one gzipped CSV row per image.
    """
    fix = "the optbench installation is damaged: reinstall it"
    try:
        with gzip.open(path, "rb") as f:
            text = f.read().decode("ascii")
        # 117 k int() calls: ~20 ms on x86, half np.loadtxt's time on numpy 1.19 (its loadtxt
        # is pure Python; numpy 1.23+ has a faster one, but the Nano has 1.19).
        table = np.array([[int(v) for v in row.split(",")] for row in text.split()], dtype=np.int64)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read {path}: {e}; {fix}") from e
    except ValueError as e:  # a value that is not an integer, or rows of unequal length
        raise DatasetError(f"{path} is not a table of integers: {e}; {fix}") from e
    if table.ndim != 2 or table.shape[1] != DIGITS_COLUMNS or len(table) == 0:
        raise DatasetError(f"{path} holds a {table.shape} table, expected N x {DIGITS_COLUMNS}; {fix}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > DIGITS_MAX:
        raise DatasetError(f"{path} has pixels outside 0..{DIGITS_MAX}; {fix}")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DatasetError(f"{path} has classes outside 0..{NUM_CLASSES - 1}; {fix}")
    return pixels.astype(np.uint8).reshape(-1, 8, 8), labels


def load_mnist(
    data_dir: str,
    seed: int,
    train_size: Optional[int] = None,
    test_size: Optional[int] = None,
    channels: int = 1,
    standardise: bool = True,
) -> ImageSplit:
    """MNIST from its four IDX files (each may be gzipped), 28 x 28 zero-padded to 32 x 32.

    ``data_dir`` holds the files, or is torchvision's root (files under ``MNIST/raw``).
    ``train_size``/``test_size`` keep a seeded random subset of each split.
    """
    _check_channels(channels)
    fix = f"download MNIST's four IDX files into {data_dir}, {DIGITS_HINT}"
    directory = _resolve_dir(str(data_dir), ("MNIST", "raw"), MNIST_FILES, True, "MNIST", fix)
    rng = np.random.RandomState(seed)
    parts = []  # type: List[np.ndarray]
    for stem, size, what in (("train", train_size, "train_size"), ("t10k", test_size, "test_size")):
        images_path = _idx_path(directory, stem + "-images-idx3-ubyte")
        labels_path = _idx_path(directory, stem + "-labels-idx1-ubyte")
        images = _read_idx(images_path, IDX_IMAGES)
        labels = _read_idx(labels_path, IDX_LABELS).astype(np.int64)
        if images.shape[1:] != (28, 28) or len(images) == 0:
            shape = " x ".join(map(str, images.shape))
            raise DatasetError(f"{images_path} holds {shape} images, expected N x 28 x 28, N > 0")
        if len(labels) != len(images):
            raise DatasetError(
                f"{labels_path} holds {len(labels)} labels for the {len(images)} images in "
                f"{images_path}; re-download both"
            )
        _check_labels(labels, labels_path)
        keep = _subset(len(images), size, rng, what, images_path)
        parts += [_to_channels(_pad(images[keep] / np.float32(255)), channels), labels[keep]]
    return _finish(parts, "mnist: " + os.path.abspath(directory), standardise)


def load_cifar10(
    data_dir: str,
    seed: int,
    channels: int = 3,
    train_size: Optional[int] = None,
    test_size: Optional[int] = None,
    standardise: bool = True,
) -> ImageSplit:
    """CIFAR-10's binary version: data_batch_1.bin .. data_batch_5.bin and test_batch.bin.

    ``data_dir`` holds the files or their ``cifar-10-batches-bin`` folder. ``channels=1``
    converts to grey (for LeNet). ``train_size``/``test_size`` keep seeded random subsets.
    """
    _check_channels(channels)
    fix = (
        f"download CIFAR-10's binary version (cifar-10-binary.tar.gz) and extract it into "
        f"{data_dir}, {DIGITS_HINT}"
    )
    names = CIFAR_TRAIN_FILES + (CIFAR_TEST_FILE,)
    directory = _resolve_dir(str(data_dir), ("cifar-10-batches-bin",), names, False, "CIFAR-10", fix)
    rng = np.random.RandomState(seed)
    parts = []  # type: List[np.ndarray]
    splits = (
        (CIFAR_TRAIN_FILES, train_size, "train_size"),
        ((CIFAR_TEST_FILE,), test_size, "test_size"),
    )
    for files, size, what in splits:
        batches = [_read_cifar(os.path.join(directory, name)) for name in files]
        images = np.concatenate([b[0] for b in batches])
        labels = np.concatenate([b[1] for b in batches])
        # Subset while still uint8: the float copy of all 50000 images is 600 MB.
        keep = _subset(len(images), size, rng, what, os.path.join(directory, files[0]))
        x = images[keep] / np.float32(255)
        if channels == 1:
            x = np.einsum("nchw,c->nhw", x, LUMA)[:, None]
        parts += [x, labels[keep]]
    return _finish(parts, "cifar10: " + os.path.abspath(directory), standardise)


def _check_channels(channels: int) -> None:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")


def _resolve_dir(
    data_dir: str, subdir: Tuple[str, ...], names: Sequence[str], gz: bool, what: str, fix: str
) -> str:
    """The directory holding every file in ``names`` (or ``name.gz`` where ``gz``)."""
    data_dir = os.path.expanduser(data_dir)
    if not os.path.isdir(data_dir):
        raise DatasetError(f"{what} directory {data_dir} does not exist; {fix}")
    nested = os.path.join(data_dir, *subdir)
    directory = nested if os.path.isdir(nested) else data_dir
    present = sorted(os.listdir(directory))
    missing = [n for n in names if n not in present and not (gz and n + ".gz" in present)]
    if missing:
        found = ", ".join(present[:12]) + (", ..." if len(present) > 12 else "") or "nothing"
        if "data_batch_1" in present or "cifar-10-batches-py" in present:
            found += " (that is CIFAR-10's python version; this reads the binary one)"
        raise DatasetError(
            f"{what} directory {directory} lacks {', '.join(missing)}; expected the files "
            f"{', '.join(names)}{' (each may be gzipped, NAME.gz)' if gz else ''}, "
            f"found {found}; {fix}"
        )
    return directory


def _idx_path(directory: str, name: str) -> str:
    plain = os.path.join(directory, name)
    return plain if os.path.exists(plain) else plain + ".gz"


def _read_idx(path: str, magic: int) -> np.ndarray:
    """One IDX file: a big-endian magic (0x0000 08 ndim), ndim big-endian sizes, the bytes."""
    try:
        with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:  # a truncated .gz raises EOFError
        raise DatasetError(f"cannot read {path}: {e}; re-download it") from e
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path} is truncated: {len(data)} bytes, less than its IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        kind = "images" if magic == IDX_IMAGES else "labels"
        gzipped = f" (it is gzipped: name it {path}.gz)" if data[:2] == b"\x1f\x8b" else ""
        raise DatasetError(
            f"{path} has IDX magic number 0x{found:08x}, expected 0x{magic:08x} for an {kind} "
            f"file{gzipped}; re-download it"
        )
    dims = [int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4)]
    need, have = int(np.prod(dims, dtype=np.int64)), len(data) - header
    if have != need:
        state = "truncated" if have < need else "longer than its header says"
        raise DatasetError(
            f"{path} is {state}: its header declares {' x '.join(map(str, dims))} "
            f"({need} bytes of data) but {have} bytes follow; re-download it"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_cifar(path: str) -> Tuple[np.ndarray, np.ndarray]:
    size = os.path.getsize(path)
    if size == 0 or size % CIFAR_RECORD:
        raise DatasetError(
            f"{path} holds {size} bytes, expected a whole number of {CIFAR_RECORD}-byte records "
            "(1 label byte, 3072 pixel bytes): it is truncated or not CIFAR-10's binary "
            "version; re-download cifar-10-binary.tar.gz"
        )
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = raw[:, 0].astype(np.int64)
    _check_labels(labels, path)
    return raw[:, 1:].reshape(-1, 3, SIDE, SIDE), labels


def _check_labels(labels: np.ndarray, path: str) -> None:
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise DatasetError(
            f"{path}: record {bad[0]} has label {labels[bad[0]]}, expected 0..{NUM_CLASSES - 1}; "
            "the file is corrupt, re-download it"
        )


def _subset(n: int, size: Optional[int], rng: np.random.RandomState, what: str, where: str) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``size`` of ``n`` (all of them if None)."""
    # Drawn whatever the size, so the next split's draw does not depend on this one's size;
    # and prefixes of one permutation nest: the 1000-image subset is part of the 2000 one.
    order = rng.permutation(n)
    if size is None:
        return np.arange(n)
    if not 0 < size <= n:
        raise DatasetError(f"{what} must be 1..{n} (the images in {where}), got {size}")
    return np.sort(order[:size])


def _pad(images: np.ndarray) -> np.ndarray:
    """N x H x W centred in N x 32 x 32 with zeros (the odd pixel, if any, bottom/right)."""
    h, w = images.shape[1:]
    top, left = (SIDE - h) // 2, (SIDE - w) // 2
    return np.pad(images, ((0, 0), (top, SIDE - h - top), (left, SIDE - w - left)), "constant")


def _to_channels(images: np.ndarray, channels: int) -> np.ndarray:
    return np.repeat(images[:, None], channels, axis=1)


def _finish(parts: List[np.ndarray], source: str, standardise: bool) -> ImageSplit:
    x_train, y_train, x_test, y_test = parts
    x_train = np.ascontiguousarray(x_train, dtype=np.float32)
    x_test = np.ascontiguousarray(x_test, dtype=np.float32)
    if standardise:
        # Stats from the training split only, so nothing of the test split leaks in. Summed
        # in chunks in float64: one float64 temporary of all MNIST is 0.5 GB, too much for
        # the Nano's 4 GB shared by CPU and GPU.
        total, squares = np.zeros(x_train.shape[1]), np.zeros(x_train.shape[1])
        for start in range(0, len(x_train), 1024):
            chunk = x_train[start : start + 1024].astype(np.float64)
            total += chunk.sum(axis=(0, 2, 3))
            squares += np.square(chunk).sum(axis=(0, 2, 3))
        count = x_train.size // x_train.shape[1]
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
        std[std < 1e-6] = 1.0  # a constant channel has nothing to scale; avoid dividing by 0
        for x in (x_train, x_test):  # in place: both are fresh copies owned here
            x -= mean.astype(np.float32)[:, None, None]
            x /= std.astype(np.float32)[:, None, None]
    y_train, y_test = (np.asarray(y, dtype=np.int64) for y in (y_train, y_test))
    return ImageSplit(x_train, y_train, x_test, y_test, NUM_CLASSES, source)
