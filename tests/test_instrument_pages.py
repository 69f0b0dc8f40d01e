"""The instruments on the pages (AppTest): the forward pass on Draw for every architecture, the first
layer on Evaluate, the gradient chart and weight histograms on Runs, and a run from before them."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dlapp.config import RunConfig
from dlapp.data import load_raw
from dlapp.models import build_compiled
from dlapp.store import RunStore
from dlapp.ui.instruments import NO_LAYER_STATS
from dlapp.ui.text import escape_markdown

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 90
SMALL = {
    "mlp": {"hidden_units": (16,)},
    "cnn": {"conv_filters": (4, 8), "dense_units": 16},
    "rnn": {"rnn_units": (8,)},
    "autoencoder": {"encoder_units": (32,), "latent_dim": 2},
    "resnet": {"resnet_width": 4},
}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    """A store with an untrained small model of every architecture, kept as finished runs (as an import is)."""
    data_dir = tmp_path_factory.mktemp("instrument_pages")
    store = RunStore(data_dir)
    for arch, settings in SMALL.items():
        config = RunConfig.from_flat(arch=arch, **settings)
        run_id = store.create_run(config, name=f"small {arch}")
        store.save_model(run_id, build_compiled(config))
        store.add_epoch(run_id, 0, {"loss": 1.0})  # recorded before per-layer statistics existed
        store.finish_run(run_id, "finished", metrics={}, seconds=1.0, samples_per_second=1.0)
    return data_dir


@pytest.fixture
def drawn_canvas(monkeypatch, models_dir):
    """The canvas component, which only a browser can draw on, handing the page a real digit as RGBA ink."""
    digit = np.kron(load_raw("mnist-sample").x_test[0], np.ones((10, 10), np.uint8))  # (280, 280)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = digit  # dark ink on a transparent background, as the canvas gives it
    canvas = SimpleNamespace(st_canvas=lambda **kwargs: SimpleNamespace(image_data=rgba))
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", canvas)
    monkeypatch.setenv("DLAPP_DATA_DIR", str(models_dir))


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page(page).run()
    return at


def run_picker(at: AppTest, key: str):
    """The page's run selectbox (its key carries a suffix after `key`)."""
    return next(box for box in at.selectbox if box.key.startswith(key))


def run_id_of(models_dir: Path, arch: str) -> int:
    return next(run.id for run in RunStore(models_dir).runs() if run.arch == arch)


@pytest.mark.parametrize("arch", list(SMALL))
def test_draw_shows_the_forward_pass_of_the_drawing_for_every_architecture(drawn_canvas, models_dir, arch):
    at = open_page("pages/draw.py")
    run_picker(at, "draw_run").set_value(run_id_of(models_dir, arch)).run()
    assert not at.exception, [e.message for e in at.exception]
    (expander,) = [e for e in at.expander if e.label == "The forward pass of your drawing"]
    titles = [m.value for m in expander.markdown]
    assert titles[0].startswith("**image · InputLayer")
    assert titles[-1].endswith("(the output)")
    if arch == "cnn":
        assert any(escape_markdown("Conv2D · (28, 28, 4)") in t for t in titles)
    if arch == "rnn":
        assert any("hidden state" in c.value for c in expander.caption)
    if arch == "autoencoder":
        assert any("(the latent code)" in t for t in titles)


def test_evaluate_shows_what_the_first_layer_looks_for(drawn_canvas, models_dir):
    at = open_page("pages/evaluate.py")
    run_picker(at, "evaluate_run").set_value(run_id_of(models_dir, "cnn")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "What the first layer looks for" in [s.value for s in at.subheader]


def test_a_run_from_before_layer_statistics_says_so_in_one_line(drawn_canvas, models_dir):
    at = open_page("pages/runs.py")
    assert not at.exception, [e.message for e in at.exception]
    assert NO_LAYER_STATS in [c.value for c in at.caption]
