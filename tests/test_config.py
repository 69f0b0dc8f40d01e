"""RunConfig: defaults are valid, bad values name field, value and range, JSON round-trips."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlapp.config import MAX_LAYERS, MAX_POOLED_BLOCKS, ConfigError, RunConfig, all_fields

FIELDS = all_fields()
NUMERIC = [name for name, f in FIELDS.items() if "low" in f.metadata]
SCALAR_NUMERIC = [name for name in NUMERIC if not FIELDS[name].metadata.get("items")]
LIST_FIELDS = [name for name in NUMERIC if FIELDS[name].metadata.get("items")]
CHOICE_FIELDS = [name for name, f in FIELDS.items() if "choices" in f.metadata]
BOOL_FIELDS = [name for name, f in FIELDS.items() if isinstance(f.default, bool)]


def _is_int_field(name: str) -> bool:
    f = FIELDS[name]
    return bool(f.metadata.get("items")) or type(f.default) is int


def _in_range(value: float, meta: dict) -> bool:
    low_ok = value > meta["low"] if meta.get("low_open") else value >= meta["low"]
    high_ok = value < meta["high"] if meta.get("high_open") else value <= meta["high"]
    return low_ok and high_ok


def _with(name: str, value) -> RunConfig:
    """A config with one field set, skipping the coercion `replace` does, to test validate() itself."""
    config = RunConfig()
    section = {"data": config.data, "model": config.model, "train": config.train}
    for part_name, part in section.items():
        if name in {f.name for f in dataclasses.fields(part)}:
            return dataclasses.replace(config, **{part_name: dataclasses.replace(part, **{name: value})})
    raise AssertionError(name)


def test_defaults_are_valid_and_every_field_documents_itself():
    assert RunConfig().validate() == RunConfig()
    for name, f in FIELDS.items():
        assert f.metadata.get("help"), name
        assert "choices" in f.metadata or "low" in f.metadata or name in BOOL_FIELDS, name


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("hidden_units", (0,), ["hidden_units", "0", "at least 1", "at most 4096"]),
        ("hidden_units", (-5,), ["hidden_units", "-5", "at least 1"]),
        ("hidden_units", (4097,), ["hidden_units", "4097", "at most 4096"]),
        ("hidden_units", (), ["hidden_units", "list"]),
        ("hidden_units", (8,) * (MAX_LAYERS + 1), ["hidden_units", str(MAX_LAYERS + 1), str(MAX_LAYERS)]),
        ("dense_units", -1, ["dense_units", "-1", "at least 0"]),
        ("dropout", 1.0, ["dropout", "1.0", "less than 1"]),
        ("dropout", -0.1, ["dropout", "-0.1", "at least 0"]),
        ("dropout", 2, ["dropout", "2", "less than 1"]),
        ("epochs", 0, ["epochs", "0", "at least 1", "at most 500"]),
        ("epochs", 501, ["epochs", "501", "at most 500"]),
        ("epochs", 2.5, ["epochs", "2.5", "whole number"]),
        ("batch_size", 0, ["batch_size", "0", "at least 1", "at most 8192"]),
        ("batch_size", 8193, ["batch_size", "8193", "at most 8192"]),
        ("learning_rate", 0.0, ["learning_rate", "0.0", "greater than 0"]),
        ("learning_rate", -0.01, ["learning_rate", "-0.01", "greater than 0"]),
        ("learning_rate", math.nan, ["learning_rate", "nan", "number"]),
        ("dropout", math.nan, ["dropout", "nan", "number"]),
        ("epochs", math.nan, ["epochs", "nan", "whole number"]),
        ("learning_rate", math.inf, ["learning_rate", "inf"]),
        ("arch", "transformer", ["arch", "'transformer'", "mlp", "resnet"]),
        ("optimizer", "adagrad", ["optimizer", "'adagrad'", "adam", "sgd"]),
        ("activation", "softplus2", ["activation", "'softplus2'", "relu"]),
        ("dataset", "cifar10", ["dataset", "'cifar10'", "mnist-sample"]),
        ("rnn_cell", "transformer", ["rnn_cell", "lstm"]),
        ("batch_norm", "true", ["batch_norm", "'true'", "true or false"]),
        ("bidirectional", "False", ["bidirectional", "'False'", "true or false"]),
        ("augment", 1, ["augment", "1", "true or false"]),
        ("epochs", True, ["epochs", "True", "whole number"]),
        ("dropout", "0.2", ["dropout", "'0.2'", "number"]),
    ],
)
def test_bad_values_raise_value_error_naming_field_value_and_range(field, value, words):
    with pytest.raises(ValueError) as info:
        _with(field, value).validate()
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    assert "\n" not in message


def test_unknown_field_names_are_rejected_everywhere():
    with pytest.raises(ValueError, match="Unknown config field 'hiden_units'"):
        RunConfig().replace(hiden_units=(3,))
    with pytest.raises(ValueError, match="Unknown config field 'colour'"):
        RunConfig.from_dict({"model": {"colour": "red"}})
    with pytest.raises(ValueError, match="Unknown config section 'extra'"):
        RunConfig.from_dict({"extra": {}})
    with pytest.raises(ValueError, match="JSON object"):
        RunConfig.from_json("[1, 2]")
    with pytest.raises(ValueError, match="model"):
        RunConfig.from_json('{"model": [1]}')


def test_too_many_pooled_conv_blocks_are_rejected_with_advice():
    config = RunConfig.from_flat(arch="cnn", conv_filters=(8,) * (MAX_POOLED_BLOCKS + 1))
    with pytest.raises(ValueError, match="pooling to none"):
        config.validate()
    config.replace(pooling="none").validate()  # without pooling the image keeps its size


def test_replace_and_from_flat_accept_comma_lists_and_whole_floats():
    config = RunConfig.from_flat(hidden_units="128, 64", epochs=3.0, batch_size=32.0)
    assert config.model.hidden_units == (128, 64)
    assert config.train.epochs == 3 and type(config.train.epochs) is int
    assert type(config.train.batch_size) is int
    config.validate()
    with pytest.raises(ValueError, match="hidden_units must be whole numbers separated by commas"):
        RunConfig.from_flat(hidden_units="abc")


def test_json_round_trip_of_a_non_default_config():
    config = RunConfig.from_flat(
        arch="rnn", rnn_cell="gru", rnn_units=(32, 16), bidirectional=True, epochs=7, learning_rate=3e-4
    )
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert again.model.rnn_units == (32, 16)
    assert RunConfig.from_json("{}") == RunConfig()


def test_a_config_stored_before_deskewing_existed_keeps_its_model_without_it():
    stored = RunConfig().replace(arch="cnn").to_dict()
    del stored["model"]["deskew"]
    assert RunConfig.from_dict(stored).model.deskew is False
    assert RunConfig().replace(arch="cnn").model.deskew is True  # new runs deskew


def test_a_config_stored_before_bending_existed_keeps_its_model_without_it():
    stored = RunConfig().replace(arch="cnn").to_dict()
    del stored["model"]["bend"]
    assert RunConfig.from_dict(stored).model.bend == 0.0
    assert RunConfig().replace(arch="cnn").model.bend == 2.0  # new CNN runs bend their training digits


def test_flat_lists_every_field_once():
    assert set(RunConfig().flat()) == set(FIELDS)


# --- property-based: bounds come from each field's metadata --------------------------------


def _around_bounds(name: str) -> st.SearchStrategy:
    """Values at, just inside, just outside and far beyond a numeric field's bounds."""
    meta = FIELDS[name].metadata
    low, high = meta["low"], meta["high"]
    if _is_int_field(name):
        edges = [low - 1, low, low + 1, high - 1, high, high + 1]
        return st.one_of(st.sampled_from(edges), st.integers(low - 1000, high + 1000))
    edges = [low, high, math.nextafter(low, -math.inf), math.nextafter(high, math.inf)]
    edges += [math.nextafter(low, math.inf), math.nextafter(high, -math.inf), low - 1.0, high + 1.0]
    return st.one_of(st.sampled_from(edges), st.floats(low - 10, high + 10, allow_nan=False))


@pytest.mark.parametrize("name", SCALAR_NUMERIC)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_numeric_fields_accept_exactly_their_range(name, data):
    value = data.draw(_around_bounds(name))
    config = _with(name, value)
    if _in_range(value, FIELDS[name].metadata):
        config.validate()
    else:
        with pytest.raises(ValueError, match=name):
            config.validate()


@pytest.mark.parametrize("name", LIST_FIELDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_list_fields_check_every_item_against_the_range(name, data):
    value = data.draw(_around_bounds(name))
    config = _with(name, (1, value) if name != "conv_filters" else (value,))
    if _in_range(value, FIELDS[name].metadata):
        config.validate()
    else:
        with pytest.raises(ValueError, match=name):
            config.validate()


@pytest.mark.parametrize("name", SCALAR_NUMERIC)
def test_numeric_field_bounds_are_exact(name):
    meta = FIELDS[name].metadata
    low, high = meta["low"], meta["high"]
    step = 1 if _is_int_field(name) else 1e-9
    if meta.get("low_open"):
        with pytest.raises(ValueError):
            _with(name, low).validate()
    else:
        _with(name, low).validate()
    if meta.get("high_open"):
        with pytest.raises(ValueError):
            _with(name, high).validate()
    else:
        _with(name, high).validate()
    for beyond in (low - step, high + step):
        with pytest.raises(ValueError, match=name):
            _with(name, beyond).validate()


def _field_strategy(name: str) -> st.SearchStrategy:
    f = FIELDS[name]
    meta = f.metadata
    if "choices" in meta:
        return st.sampled_from(meta["choices"])
    if name in BOOL_FIELDS:
        return st.booleans()
    low, high = meta["low"], meta["high"]
    if _is_int_field(name):
        low, high = low + bool(meta.get("low_open")), high - bool(meta.get("high_open"))
        ints = st.integers(low, high)
        if meta.get("items"):
            return st.lists(ints, min_size=1, max_size=MAX_LAYERS).map(tuple)
        return ints
    return st.floats(low, high, exclude_min=bool(meta.get("low_open")), exclude_max=bool(meta.get("high_open")))


def _fit_pooling(values: dict) -> dict:
    if values["pooling"] != "none":
        values["conv_filters"] = values["conv_filters"][:MAX_POOLED_BLOCKS]
    return values


def _fit_pen_digits(values: dict) -> dict:
    if values["dataset"] == "fashion_mnist":
        values["pen_digits"] = 0  # pen digits are digits: refused with clothes
    return values


VALID_CONFIGS = (
    st.fixed_dictionaries({name: _field_strategy(name) for name in FIELDS}).map(_fit_pooling).map(_fit_pen_digits)
)


@settings(max_examples=150, deadline=None)
@given(values=VALID_CONFIGS)
def test_valid_configs_validate_and_round_trip_through_json(values):
    config = RunConfig.from_flat(**values).validate()
    assert RunConfig.from_json(config.to_json()) == config
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig.from_flat(**config.flat()) == config


def test_every_setting_says_what_it_does_in_a_sentence_or_two():
    for name, f in all_fields().items():
        text = f.metadata["help"]
        sentences = [s for s in text.replace("e.g.", "eg").split(". ") if s.strip()]
        assert 40 <= len(text) <= 260 and 1 <= len(sentences) <= 3, (name, text)


def test_loss_applies_to_classifiers_only():
    from dlapp.config import ARCH_FIELDS

    assert RunConfig.from_flat(loss="mse").validate().model.loss == "mse"
    assert all("loss" in ARCH_FIELDS[arch] for arch in ("mlp", "cnn", "rnn", "resnet"))
    assert "loss" not in ARCH_FIELDS["autoencoder"]
    with pytest.raises(ValueError, match="loss must be one of crossentropy, mse"):
        RunConfig.from_flat(loss="hinge").validate()


def test_config_error_carries_the_field_the_value_and_what_is_allowed():
    from dlapp.config import ConfigError

    with pytest.raises(ConfigError) as info:
        RunConfig.from_flat(learning_rate=50.0).validate()
    error = info.value
    assert (error.field, error.value, error.allowed) == ("learning_rate", 50.0, "greater than 0 and at most 10")
    assert str(error) == "learning_rate must be greater than 0 and at most 10; got 50.0."
    assert error.worded("Learning rate", "you typed", "50") == (
        "Learning rate must be greater than 0 and at most 10; you typed 50."
    )


@pytest.mark.parametrize("text", ["128,,64", "128,", ",64", ""])
def test_an_empty_layer_size_is_refused_not_dropped(text):
    from dlapp.config import ConfigError

    with pytest.raises(ConfigError, match="whole numbers separated by commas") as info:
        RunConfig.from_flat(hidden_units=text)
    assert info.value.field == "hidden_units" and info.value.value == text


def test_pen_digits_with_fashion_mnist_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match="pen digits are digits") as caught:
        RunConfig().replace(dataset="fashion_mnist", pen_digits=10).validate()
    assert caught.value.field == "pen_digits"
