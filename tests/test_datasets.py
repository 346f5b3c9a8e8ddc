"""bench.problems.datasets: small files in the real formats, written here, read back.

Runs on the Nano's stack too (Python 3.6, numpy 1.19, pytest 7.0): no newer features.
"""

import gzip
import hashlib
import os
import struct

import numpy as np
import pytest

from bench.problems.datasets import (
    CIFAR_TEST_FILE,
    CIFAR_TRAIN_FILES,
    DIGITS_FILE,
    MNIST_FILES,
    DatasetError,
    load_cifar10,
    load_digits_32,
    load_mnist,
    read_digits,
)

N_TRAIN, N_TEST = 40, 20
PER_BATCH, N_CIFAR_TEST = 6, 8


def idx_bytes(array, magic=None):
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x800 | array.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.tobytes()


def write(path, data, gz=False):
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def mnist_arrays(n, seed):
    """Random images whose pixel (0, 0) is their index, so subsets can be traced back."""
    images = np.random.RandomState(seed).randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
    images[:, 0, 0] = np.arange(n)
    return images, (np.arange(n) * 7) % 10


def make_mnist(directory, gz=False):
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {"train": mnist_arrays(N_TRAIN, 1), "t10k": mnist_arrays(N_TEST, 2)}
    for stem, (images, labels) in arrays.items():
        write(directory / (stem + "-images-idx3-ubyte"), idx_bytes(images), gz)
        write(directory / (stem + "-labels-idx1-ubyte"), idx_bytes(labels), gz)
    return arrays


def cifar_arrays(n, seed):
    pixels = np.random.RandomState(seed).randint(0, 256, size=(n, 3, 32, 32)).astype(np.uint8)
    return pixels, np.random.RandomState(seed + 100).randint(0, 10, size=n)


def cifar_bytes(pixels, labels):
    records = np.concatenate([labels[:, None], pixels.reshape(len(labels), -1)], axis=1)
    return records.astype(np.uint8).tobytes()


def make_cifar(directory):
    directory.mkdir(parents=True, exist_ok=True)
    train = [cifar_arrays(PER_BATCH, i) for i in range(5)]
    for name, (pixels, labels) in zip(CIFAR_TRAIN_FILES, train):
        (directory / name).write_bytes(cifar_bytes(pixels, labels))
    test = cifar_arrays(N_CIFAR_TEST, 9)
    (directory / CIFAR_TEST_FILE).write_bytes(cifar_bytes(*test))
    pixels = np.concatenate([p for p, _ in train])
    return (pixels, np.concatenate([y for _, y in train])), test


def assert_standardised(split):
    for c in range(split.x_train.shape[1]):
        channel = split.x_train[:, c].astype(np.float64)
        assert abs(channel.mean()) < 1e-5
        assert abs(channel.std() - 1.0) < 1e-4


def assert_uses_train_stats(raw, split):
    """The test split is standardised with the training split's mean and std."""
    axes = (0, 2, 3)
    mean = raw.x_train.mean(axis=axes, dtype=np.float64)[:, None, None]
    std = raw.x_train.std(axis=axes, dtype=np.float64)[:, None, None]
    np.testing.assert_allclose(split.x_test, (raw.x_test - mean) / std, atol=1e-4)


# --- digits -----------------------------------------------------------------------------


# The UCI test set's class counts (optdigits.tes), and what the file decodes to.
DIGITS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
DIGITS_FIRST = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0,
                0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0,
                0, 6, 13, 10, 0, 0, 0]  # fmt: skip
DIGITS_FILE_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
DIGITS_DECODED_SHA256 = "65e5b4619795efb40c1082f4c350c049e4ad552200d369b6ae99e21eef5e72c5"


def decoded_sha256(images, labels):
    return hashlib.sha256(images.astype(np.uint8).tobytes() + labels.astype("<i8").tobytes()).hexdigest()


def test_bundled_digits_are_pinned():
    """The file, and what it decodes to, cannot drift unnoticed."""
    with open(DIGITS_FILE, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == DIGITS_FILE_SHA256
    images, labels = read_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == DIGITS_COUNTS
    assert images[0].ravel().tolist() == DIGITS_FIRST and labels[:5].tolist() == [0, 1, 2, 3, 4]
    assert labels[-1] == 8 and int(images.sum(dtype=np.int64)) == 561718
    assert decoded_sha256(images, labels) == DIGITS_DECODED_SHA256


def test_bundled_digits_are_exactly_scikit_learns():
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = datasets.load_digits()
    images, labels = read_digits()
    np.testing.assert_array_equal(images, bunch.images)
    np.testing.assert_array_equal(labels, bunch.target)


def test_bundled_digits_lie_inside_the_package():
    import bench

    package = os.path.dirname(os.path.abspath(bench.__file__))
    assert os.path.dirname(DIGITS_FILE) == os.path.join(package, "data")
    assert os.path.isfile(os.path.join(package, "data", "README.md"))


@pytest.mark.parametrize(
    "content, complaint",
    [
        (b"1,2,3\n", "expected N x 65"),
        (b"", "expected N x 65"),
        (b",".join([b"0"] * 64) + b",3\n" + b",".join([b"0"] * 63) + b",3\n", "not a table of integers"),
        (b",".join([b"17"] * 64) + b",3\n", "pixels outside 0..16"),
        (b",".join([b"0"] * 64) + b",10\n", "classes outside 0..9"),
        (b"x" * 65, "not a table of integers"),
    ],
)
def test_damaged_digits_file_is_named(tmp_path, content, complaint):
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(DatasetError, match=complaint) as caught:
        read_digits(str(path))
    assert str(path) in str(caught.value) and "reinstall" in str(caught.value)
    path.write_bytes(gzip.compress(b"0,1,2\n" * 100)[:30])
    with pytest.raises(DatasetError, match="cannot read"):
        read_digits(str(path))


def test_digits_shapes_split_and_stratification():
    split = load_digits_32(seed=0)
    expected_test = [int(round(c * 0.2)) for c in DIGITS_COUNTS]
    assert split.x_train.shape == (1797 - sum(expected_test), 1, 32, 32)
    assert split.x_test.shape == (sum(expected_test), 1, 32, 32)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert split.num_classes == 10 and split.source == "digits (bundled: UCI optdigits test set)"
    assert np.bincount(split.y_test, minlength=10).tolist() == expected_test
    assert_standardised(split)


def test_digits_raw_layout_keeps_images_with_their_labels():
    images, labels = read_digits()
    labels_of = {}
    for image, label in zip(images, labels):
        labels_of.setdefault((image / 16.0).astype(np.float32).tobytes(), set()).add(label)
    split = load_digits_32(seed=3, standardise=False)
    x = split.x_train
    assert x.min() == 0.0 and x.max() == 1.0
    # A 4-pixel zero border round the 24 x 24 upscaled digit.
    assert not x[:, :, :4].any() and not x[:, :, 28:].any()
    assert not x[:, :, :, :4].any() and not x[:, :, :, 28:].any()
    small = x[:, 0, 4:28:3, 4:28:3]
    np.testing.assert_array_equal(np.repeat(np.repeat(small, 3, axis=1), 3, axis=2), x[:, 0, 4:28, 4:28])
    for image, label in zip(small, split.y_train):
        assert label in labels_of[image.tobytes()]


def test_digits_seeded_and_channels():
    a, b, c = load_digits_32(seed=5), load_digits_32(seed=5), load_digits_32(seed=6)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    rgb = load_digits_32(seed=5, channels=3, standardise=False)
    assert rgb.x_train.shape[1:] == (3, 32, 32)
    np.testing.assert_array_equal(rgb.x_train[:, 0], rgb.x_train[:, 2])
    assert_standardised(load_digits_32(seed=5, channels=3))


def test_digits_train_size_keeps_the_test_split():
    full, small = load_digits_32(seed=2), load_digits_32(seed=2, train_size=100)
    assert len(small.y_train) == 100
    np.testing.assert_array_equal(full.y_test, small.y_test)
    with pytest.raises(DatasetError, match="train_size must be 1"):
        load_digits_32(seed=2, train_size=5000)
    with pytest.raises(ValueError, match="channels"):
        load_digits_32(seed=2, channels=2)


# --- MNIST ------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_mnist_reads_idx_files(tmp_path, gz):
    arrays = make_mnist(tmp_path, gz=gz)
    raw = load_mnist(str(tmp_path), seed=0, standardise=False)
    for x, y, (images, labels) in (
        (raw.x_train, raw.y_train, arrays["train"]),
        (raw.x_test, raw.y_test, arrays["t10k"]),
    ):
        assert x.shape == (len(labels), 1, 32, 32) and x.dtype == np.float32
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, labels)
        # 28 x 28 centred in 32 x 32: pixel (r, c) lands at (r + 2, c + 2), zeros round it.
        np.testing.assert_array_equal(np.round(x[:, 0, 2:30, 2:30] * 255), images)
        assert x[5, 0, 2, 2] * 255 == pytest.approx(5)
        assert not x[:, :, :2].any() and not x[:, :, 30:].any()
        assert not x[:, :, :, :2].any() and not x[:, :, :, 30:].any()
    assert raw.num_classes == 10 and raw.source == "mnist: " + str(tmp_path)
    split = load_mnist(str(tmp_path), seed=0)
    assert_standardised(split)
    assert_uses_train_stats(raw, split)


def test_mnist_seeded_subsets(tmp_path):
    make_mnist(tmp_path)
    a = load_mnist(tmp_path, seed=4, train_size=10, test_size=5, standardise=False)
    b = load_mnist(tmp_path, seed=4, train_size=10, test_size=5, standardise=False)
    c = load_mnist(tmp_path, seed=5, train_size=10, test_size=5, standardise=False)
    assert a.x_train.shape == (10, 1, 32, 32) and a.x_test.shape == (5, 1, 32, 32)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    index = np.round(a.x_train[:, 0, 2, 2] * 255).astype(int)
    assert not np.array_equal(index, np.round(c.x_train[:, 0, 2, 2] * 255).astype(int))
    np.testing.assert_array_equal(a.y_train, (index * 7) % 10)  # each image keeps its label
    # Smaller subsets nest in larger ones, and the test subset ignores train_size.
    more = load_mnist(tmp_path, seed=4, train_size=20, test_size=5, standardise=False)
    assert set(index) <= set(np.round(more.x_train[:, 0, 2, 2] * 255).astype(int))
    np.testing.assert_array_equal(a.x_test, more.x_test)
    with pytest.raises(DatasetError, match="test_size must be 1..20"):
        load_mnist(tmp_path, seed=4, test_size=21)


def test_mnist_torchvision_layout_and_channels(tmp_path):
    make_mnist(tmp_path / "MNIST" / "raw", gz=True)
    split = load_mnist(str(tmp_path), seed=0, channels=3)
    assert split.x_train.shape == (N_TRAIN, 3, 32, 32)
    assert split.source == "mnist: " + str(tmp_path / "MNIST" / "raw")


def test_mnist_constant_images_do_not_divide_by_zero(tmp_path):
    for stem, n in (("train", 4), ("t10k", 2)):
        write(tmp_path / (stem + "-images-idx3-ubyte"), idx_bytes(np.zeros((n, 28, 28))))
        write(tmp_path / (stem + "-labels-idx1-ubyte"), idx_bytes(np.zeros(n)))
    split = load_mnist(tmp_path, seed=0)
    assert np.isfinite(split.x_train).all() and not split.x_test.any()


def message(excinfo):
    return str(excinfo.value)


def test_mnist_missing_directory(tmp_path):
    with pytest.raises(DatasetError) as excinfo:
        load_mnist(str(tmp_path / "nowhere"), seed=0)
    assert str(tmp_path / "nowhere") in message(excinfo) and "does not exist" in message(excinfo)
    assert "four IDX files" in message(excinfo) and "data: digits" in message(excinfo)


def test_mnist_missing_one_file(tmp_path):
    make_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError) as excinfo:
        load_mnist(tmp_path, seed=0)
    text = message(excinfo)
    assert "lacks t10k-labels-idx1-ubyte;" in text
    assert all(name in text for name in MNIST_FILES)
    assert "found t10k-images-idx3-ubyte, train-images-idx3-ubyte" in text


def corrupt(tmp_path, name, data, gz=False):
    make_mnist(tmp_path)
    (tmp_path / name).unlink()
    path = write(tmp_path / name, data, gz)
    with pytest.raises(DatasetError) as excinfo:
        load_mnist(tmp_path, seed=0)
    assert str(path) in message(excinfo)
    return message(excinfo)


def test_mnist_bad_magic(tmp_path):
    images, _ = mnist_arrays(N_TRAIN, 1)
    text = corrupt(tmp_path, "train-images-idx3-ubyte", idx_bytes(images, magic=0x0804))
    assert "magic number 0x00000804, expected 0x00000803" in text


def test_mnist_gzipped_content_without_gz_name(tmp_path):
    labels = gzip.compress(idx_bytes(mnist_arrays(N_TRAIN, 1)[1]))
    assert "name it" in corrupt(tmp_path, "train-labels-idx1-ubyte", labels)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_mnist_truncated_data(tmp_path, gz):
    data = idx_bytes(mnist_arrays(N_TEST, 2)[0])[:-100]
    text = corrupt(tmp_path, "t10k-images-idx3-ubyte", data, gz)
    assert "truncated" in text and "20 x 28 x 28" in text


def test_mnist_truncated_header_and_gzip_stream(tmp_path):
    assert "truncated" in corrupt(tmp_path, "train-labels-idx1-ubyte", b"\x00\x00\x08")
    stream = gzip.compress(idx_bytes(mnist_arrays(N_TRAIN, 1)[0]))[:-50]
    (tmp_path / "train-images-idx3-ubyte").unlink()
    path = write(tmp_path / "train-images-idx3-ubyte.gz", stream)
    with pytest.raises(DatasetError) as excinfo:
        load_mnist(tmp_path, seed=0)
    assert "cannot read " + str(path) in message(excinfo)


def test_mnist_label_out_of_range(tmp_path):
    labels = np.zeros(N_TEST)
    labels[7] = 10
    assert "record 7 has label 10, expected 0..9" in corrupt(
        tmp_path, "t10k-labels-idx1-ubyte", idx_bytes(labels)
    )


def test_mnist_label_count_and_image_size(tmp_path):
    assert "holds 19 labels" in corrupt(tmp_path, "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(19)))
    text = corrupt(tmp_path, "t10k-images-idx3-ubyte", idx_bytes(np.zeros((N_TEST, 27, 27))))
    assert "20 x 27 x 27" in text


# --- CIFAR-10 ---------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True])
def test_cifar_reads_binary_batches(tmp_path, nested):
    directory = tmp_path / "cifar-10-batches-bin" if nested else tmp_path
    (pixels, labels), (test_pixels, test_labels) = make_cifar(directory)
    raw = load_cifar10(str(tmp_path), seed=0, standardise=False)
    assert raw.x_train.shape == (5 * PER_BATCH, 3, 32, 32) and raw.x_train.dtype == np.float32
    assert raw.y_train.dtype == np.int64
    np.testing.assert_array_equal(raw.y_train, labels)  # batches 1..5 in order
    np.testing.assert_array_equal(raw.y_test, test_labels)
    # Record layout: the R plane, then G, then B, each 32 x 32 row-major.
    np.testing.assert_array_equal(np.round(raw.x_train * 255), pixels)
    np.testing.assert_array_equal(np.round(raw.x_test * 255), test_pixels)
    assert raw.source == "cifar10: " + str(directory)
    split = load_cifar10(tmp_path, seed=0)
    assert_standardised(split)
    assert_uses_train_stats(raw, split)


def test_cifar_grey_and_subsets(tmp_path):
    (pixels, _), _ = make_cifar(tmp_path)
    grey = load_cifar10(tmp_path, seed=0, channels=1, standardise=False)
    luma = np.einsum("nchw,c->nhw", pixels / 255.0, [0.299, 0.587, 0.114])
    assert grey.x_train.shape == (5 * PER_BATCH, 1, 32, 32)
    np.testing.assert_allclose(grey.x_train[:, 0], luma, atol=1e-5)
    a = load_cifar10(tmp_path, seed=1, train_size=7, test_size=3)
    b = load_cifar10(tmp_path, seed=1, train_size=7, test_size=3)
    assert a.x_train.shape == (7, 3, 32, 32) and a.x_test.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)


def test_cifar_missing_directory_and_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist.*cifar-10-binary.tar.gz"):
        load_cifar10(str(tmp_path / "nowhere"), seed=0)
    make_cifar(tmp_path)
    (tmp_path / "data_batch_4.bin").unlink()
    with pytest.raises(DatasetError) as excinfo:
        load_cifar10(tmp_path, seed=0)
    assert "lacks data_batch_4.bin;" in message(excinfo)
    assert all(name in message(excinfo) for name in CIFAR_TRAIN_FILES + (CIFAR_TEST_FILE,))


def test_cifar_python_version_is_named(tmp_path):
    (tmp_path / "data_batch_1").write_bytes(b"pickle")
    with pytest.raises(DatasetError, match="python version"):
        load_cifar10(tmp_path, seed=0)


def test_cifar_size_not_a_whole_number_of_records(tmp_path):
    make_cifar(tmp_path)
    with open(str(tmp_path / "data_batch_3.bin"), "ab") as f:
        f.write(b"\x00" * 5)
    with pytest.raises(DatasetError) as excinfo:
        load_cifar10(tmp_path, seed=0)
    assert str(tmp_path / "data_batch_3.bin") in message(excinfo)
    assert f"holds {PER_BATCH * 3073 + 5} bytes" in message(excinfo)
    assert "3073-byte records" in message(excinfo)


def test_cifar_label_out_of_range(tmp_path):
    make_cifar(tmp_path)
    pixels, labels = cifar_arrays(N_CIFAR_TEST, 9)
    labels[2] = 11
    (tmp_path / CIFAR_TEST_FILE).write_bytes(cifar_bytes(pixels, labels))
    with pytest.raises(DatasetError) as excinfo:
        load_cifar10(tmp_path, seed=0)
    assert str(tmp_path / CIFAR_TEST_FILE) + ": record 2 has label 11" in message(excinfo)
