"""Pages show which epoch a run's model is from, offer 'Continue training' only when it can work
(disabled with the reason otherwise), and 'Again with these settings' fills the Train page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dlapp.checkpoints import CheckpointInfo, write_model_file
from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.modelfile import load_model_file
from dlapp.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
TINY = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=5, batch_size=64, seed=7)


@pytest.fixture(scope="module")
def interrupted_dir(tmp_path_factory) -> Path:
    """A store whose one run planned 5 epochs and whose model is from epoch 2, then 'the server died'."""
    data_dir = tmp_path_factory.mktemp("interrupted")
    store = RunStore(data_dir)
    job = TrainingJob(TINY, store).start()
    assert job.wait(300) == "finished", job.error
    path = store.model_file(job.run_id)
    write_model_file(load_model_file(path, with_optimizer=True), path, CheckpointInfo(2, 5))
    store.set_status(job.run_id, "interrupted")
    return data_dir


def runs_page(data_dir: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("DLAPP_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_runs_page_says_which_epoch_the_model_is_from_and_offers_to_continue(interrupted_dir, monkeypatch):
    at = runs_page(interrupted_dir, monkeypatch)
    assert "Model from epoch 2 of 5." in [c.value for c in at.caption]
    assert at.dataframe[0].value["status"].tolist() == ["interrupted (model from epoch 2 of 5)"]
    (button,) = [b for b in at.button if b.label == "Continue training"]
    assert not button.disabled
    further = [n for n in at.number_input if n.label == "Further epochs"]
    assert further and further[0].value == 3  # the epochs it still had planned


def test_again_with_these_settings_fills_the_train_pages_settings(interrupted_dir, monkeypatch):
    at = runs_page(interrupted_dir, monkeypatch)
    (again,) = [b for b in at.button if b.label == "Again with these settings"]
    again.click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["cfg_hidden_units"] == "16"
    assert at.session_state["cfg_seed"] == 7 and at.session_state["cfg_epochs"] == 5


def test_a_training_run_cannot_be_continued_and_the_control_says_why(interrupted_dir, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    run_id = store.create_run(TINY)
    store.set_status(run_id, "running")  # owned by this (living) process: really "running"
    at = runs_page(tmp_path, monkeypatch)
    (button,) = [b for b in at.button if b.label == "Continue training"]
    assert button.disabled
    reason = f"Run #{run_id} is running; wait for it to end or stop it, then continue it."
    assert reason in [c.value for c in at.caption]
