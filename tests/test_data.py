"""Datasets: the bundled sample's shapes and splits, and full sets failing fast offline."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

from dlapp import data
from dlapp.config import DataConfig
from dlapp.data import arch_for_input, input_shape, shape_for
from dlapp.errors import DatasetUnavailable


def test_sample_has_5000_real_digits_split_4000_1000_stratified():
    raw = data.load_raw("mnist-sample")
    assert raw.x_train.shape == (4000, 28, 28) and raw.x_test.shape == (1000, 28, 28)
    assert raw.x_train.dtype == np.uint8 and raw.y_train.dtype == np.uint8
    assert np.bincount(raw.y_test, minlength=10).tolist() == [100] * 10
    assert raw.x_train.max() == 255 and raw.x_train.min() == 0
    assert raw.class_names == tuple("0123456789")


@pytest.mark.parametrize(
    ("arch", "shape"),
    [("mlp", (28, 28)), ("rnn", (28, 28)), ("autoencoder", (28, 28)), ("cnn", (28, 28, 1)), ("resnet", (28, 28, 1))],
)
def test_prepared_sample_is_float32_in_unit_range_shaped_per_arch(arch, shape):
    prepared = data.prepare(DataConfig(train_subset=200, validation_split=0.1), arch, seed=1)
    assert data.input_shape(arch) == shape
    for x in (prepared.x_train, prepared.x_val, prepared.x_test):
        assert x.shape[1:] == shape
        assert x.dtype == np.float32
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert prepared.x_train.max() == 1.0


def test_validation_split_and_train_subset_sizes():
    prepared = data.prepare(DataConfig(train_subset=300, validation_split=0.2), "mlp", seed=0)
    assert len(prepared.x_train) == len(prepared.y_train) == 240
    assert len(prepared.x_val) == len(prepared.y_val) == 60
    assert len(prepared.x_test) == 1000  # the test set is never subset
    everything = data.prepare(DataConfig(train_subset=0, validation_split=0.1), "mlp", seed=0)
    assert len(everything.x_train) + len(everything.x_val) == 4000
    assert len(everything.x_val) == 400


def test_split_is_deterministic_per_seed_and_disjoint():
    config = DataConfig(train_subset=500, validation_split=0.2)
    a, b = data.prepare(config, "cnn", seed=7), data.prepare(config, "cnn", seed=7)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    c = data.prepare(config, "cnn", seed=8)
    assert not np.array_equal(a.x_train, c.x_train)
    train_rows = {row.tobytes() for row in a.x_train}
    assert not any(row.tobytes() in train_rows for row in a.x_val)


def test_tiny_subsets_still_leave_training_images():
    # validation_split stays below 0.5, so rounding never takes the last training image.
    for subset in (1, 2, 3):
        prepared = data.prepare(DataConfig(train_subset=subset, validation_split=0.49), "mlp")
        assert len(prepared.x_train) >= 1 and len(prepared.x_train) + len(prepared.x_val) == subset


def test_shape_for_scales_uint8_and_keeps_floats():
    images = np.full((2, 28, 28), 255, dtype=np.uint8)
    assert data.shape_for(images, "cnn").shape == (2, 28, 28, 1)
    assert data.shape_for(images, "mlp").max() == 1.0
    assert data.shape_for(images.astype(np.float32) / 255, "rnn").max() == 1.0


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="mnist-sample"):
        data.load_raw("cifar10")


def _assert_unavailable_quickly(call) -> str:
    """Run `call` in a thread; it must raise DatasetUnavailable, not hang (generous join, not a timing test)."""
    result: list[BaseException | None] = []

    def target():
        try:
            call()
            result.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    assert result, "loading an offline dataset hung"
    assert isinstance(result[0], DatasetUnavailable), result[0]
    message = str(result[0])
    assert "\n" not in message and "mnist-sample" in message and message.endswith(".")
    return message


@pytest.fixture
def empty_keras_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    data.load_raw.cache_clear()
    yield
    data.load_raw.cache_clear()


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_full_set_offline_raises_dataset_unavailable_with_one_sentence(empty_keras_cache, name):
    assert not data.is_cached(name)
    message = _assert_unavailable_quickly(lambda: data.load_raw(name, timeout=2.0))
    assert "could not be downloaded" in message


def test_unroutable_download_host_fails_within_the_timeout(empty_keras_cache, monkeypatch):
    monkeypatch.setattr(data, "DOWNLOAD_HOST", ("10.255.255.1", 443))
    _assert_unavailable_quickly(lambda: data.load_raw("mnist", timeout=0.5))


def test_host_that_never_answers_times_out(empty_keras_cache, monkeypatch):
    # A listening socket whose accept queue is full drops new SYNs, so connect() waits
    # for an answer that never comes: the case the timeout exists for.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(server.getsockname())
        fillers.append(filler)
    monkeypatch.setattr(data, "DOWNLOAD_HOST", server.getsockname())
    try:
        _assert_unavailable_quickly(lambda: data.load_raw("mnist", timeout=0.5))
    finally:
        for sock in (*fillers, server):
            sock.close()


@pytest.mark.parametrize("arch", ["mlp", "cnn", "rnn", "resnet", "autoencoder"])
def test_arch_for_input_picks_a_layout_that_fits_the_models_input(arch):
    model_input = (None, *input_shape(arch))
    images = np.zeros((3, 28, 28), np.uint8)
    assert shape_for(images, arch_for_input(model_input)).shape[1:] == model_input[1:]


@pytest.mark.parametrize("count", [1500, 4494])
def test_pen_digits_join_the_training_digits_only(count):
    plain = data.prepare(DataConfig(dataset="mnist-sample"), "cnn", seed=1)
    pen = data.prepare(DataConfig(dataset="mnist-sample", pen_digits=count), "cnn", seed=1)
    assert len(pen.x_train) == len(plain.x_train) + count
    np.testing.assert_array_equal(pen.x_train[: len(plain.x_train)], plain.x_train)
    np.testing.assert_array_equal(pen.x_val, plain.x_val)
    np.testing.assert_array_equal(pen.x_test, plain.x_test)
    assert pen.x_train.dtype == np.float32 and pen.x_train.max() == 1.0


def test_the_same_pen_digits_join_whatever_the_training_seed():
    first, second = (data.prepare(DataConfig(pen_digits=100), "cnn", seed=s).x_train[-100:] for s in (1, 2))
    np.testing.assert_array_equal(first, second)


def test_a_subset_gets_the_same_share_of_pen_digits():
    small = data.prepare(DataConfig(dataset="mnist-sample", train_subset=400, pen_digits=1500), "mlp", seed=0)
    assert len(small.x_train) == 360 + 150  # 400 of 4,000 sample digits, less the validation 40; 150 of 1,500


def test_pen_digits_refuse_a_set_that_is_not_digits():
    with pytest.raises(ValueError, match="only join mnist or mnist-sample"):
        data.prepare(DataConfig(dataset="fashion_mnist", pen_digits=10), "cnn")
