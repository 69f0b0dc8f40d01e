"""The Experiments page in AppTest: empty, a finished grid (trained for real), bad grid input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_names import HOSTILE_NAMES, MAY_BE_REFUSED, is_one_sentence, markdown_strings
from streamlit.testing.v1 import AppTest

from dlapp import experiments
from dlapp.config import RunConfig
from dlapp.store import RunStore
from dlapp.ui.text import escape_markdown

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60
TINY = RunConfig.from_flat(dataset="mnist-sample", train_subset=200, hidden_units=(16,), batch_size=64, epochs=1)
ODD_NAME = "*odd* [name](http://x) <b>"


def open_experiments() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture(scope="module")
def finished_grid(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("grid")
    runner = experiments.start_grid(TINY, {"optimizer": ["sgd", "adam"]}, RunStore(data_dir), name=ODD_NAME)
    assert experiments.wait_all(runner, timeout=300) == "finished"
    return data_dir


def test_the_empty_page_invites_a_first_experiment_with_start_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    at = open_experiments()
    assert any("No experiments yet" in info.value for info in at.info)
    assert at.button(key="exp_start").disabled


def test_a_finished_grid_shows_curves_a_leaderboard_with_the_best_row_and_downloads(finished_grid, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(finished_grid))
    at = open_experiments()
    board = at.dataframe[0].value
    assert list(board["optimizer"]) == ["sgd", "adam"]
    assert list(board["status"]) == ["finished", "finished"] and list(board["best"]).count("★") == 1
    best = board.loc[board["best"] == "★", "test accuracy"].iloc[0]
    assert best == board["test accuracy"].max()
    chart = at.get("plotly_chart")[0].proto
    assert json.loads(chart.config).get("displayModeBar", True)  # the toolbar saves the curves as PNG
    curves = json.loads(chart.spec)
    legend = [trace["name"] for trace in curves["data"] if trace.get("showlegend", True)]
    assert [name.split(" ", 1)[1] for name in legend] == ["sgd", "adam"]
    assert [b.label for b in at.get("download_button")] == ["Leaderboard (.csv)", "Every epoch of every run (.csv)"]
    # A person-typed name is shown as typed, never as markdown.
    assert at.subheader[-1].value == "#1 " + escape_markdown(ODD_NAME)


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ("0, 1.5", "dropout must be at least 0 and less than 1; got 1.5."),
        ("0, 0", "dropout lists 0 twice; give each value once."),
        ("0, much", "dropout takes numbers; got 'much'."),
    ],
)
def test_bad_grid_input_is_explained_inline_and_start_stays_disabled(tmp_path, monkeypatch, values, sentence):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    at = open_experiments()
    at.selectbox(key="exp_grid_name_0").set_value("dropout").run()
    at.text_input(key="exp_grid_values_0").input(values).run()
    assert sentence in [error.value for error in at.error]
    assert at.button(key="exp_start").disabled and at.button(key="exp_start").help == sentence
    at.text_input(key="exp_grid_values_0").input("0, 0.5").run()
    assert not at.error and not at.button(key="exp_start").disabled
    assert "2 runs of 5 epoch(s) each." in [caption.value for caption in at.caption]


@pytest.mark.parametrize("label", list(HOSTILE_NAMES))
def test_a_hostile_experiment_name_is_shown_as_typed_or_refused_in_one_sentence(label, tmp_path, monkeypatch):
    from dlapp.experiment_store import ExperimentStore

    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    name = HOSTILE_NAMES[label]
    try:
        ExperimentStore(RunStore(tmp_path)).create(name, "grid", TINY, {"vary": {"optimizer": ["adam"]}})
    except ValueError as exc:
        assert label in MAY_BE_REFUSED and is_one_sentence(str(exc)), str(exc)
        return
    at = open_experiments()
    risky = [line.strip() for line in name.splitlines() if escape_markdown(line) != line.strip()]
    for text in markdown_strings(at):
        for line in risky:
            assert line not in text.replace(escape_markdown(line), ""), text[:200]


def test_the_runs_page_offers_the_runs_and_every_epoch_as_csv(finished_grid, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(finished_grid))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    labels = [b.label for b in at.get("download_button")]
    assert "Runs table (.csv)" in labels and "Every epoch of every run (.csv)" in labels
