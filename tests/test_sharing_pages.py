"""Shared mode on the pages and in the engine: a visitor may read, copy and fine-tune another owner's run,
but never change it. "Nothing changed" is checked by hash of the whole SQLite store and every model file.

The pages run in `AppTest` with $DLAPP_SHARED=1; each test sets who is visiting through the session's
owner id (a browser's cookie cannot be seeded in AppTest; tests/test_browser_shared.py forges one).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dlapp import owners
from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
ALICE, BOB = owners.new_token(), owners.new_token()
TINY = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=2, batch_size=64, seed=7)
BOB_DRAWINGS = 30  # 3 of each digit: enough to fine-tune
NOT_YOURS = (
    "Someone else started this; only they or the teacher (admin) can change it; "
    "'Again with these settings' starts a run of your own."
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Alice's finished run (trained for real), 3 drawings of hers and 30 of Bob's."""
    data_dir = tmp_path_factory.mktemp("shared")
    store = RunStore(data_dir)
    job = TrainingJob(TINY, store, name="alice's run", owner=ALICE).start()
    assert job.wait(300) == "finished", job.error
    rng = np.random.default_rng(0)
    for who, labels in ((ALICE, [1, 2, 3]), (BOB, [d % 10 for d in range(BOB_DRAWINGS)])):
        for label in labels:
            store.owners.set("drawing", store.add_drawing(label, rng.uniform(0, 1, (28, 28))), who)
    return data_dir


def snapshot(data_dir: Path) -> dict[str, str]:
    """sha256 of every row of every table (runs, epochs, owners, drawings...) and of every model file."""
    store = RunStore(data_dir)
    with closing(sqlite3.connect(store.db_path)) as db:
        dump = "\n".join(db.iterdump())
    models = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(store.models_dir.rglob("*.keras"))}
    return {"store": hashlib.sha256(dump.encode()).hexdigest(), **models}


@pytest.fixture
def shared_mode(monkeypatch):
    """$DLAPP_SHARED=1 for this test (shared mode is otherwise decided once per process)."""
    from dlapp.ui import owner

    monkeypatch.setenv("DLAPP_SHARED", "1")
    owner.shared.cache_clear()
    yield
    owner.shared.cache_clear()


def visit(data_dir: Path, monkeypatch, page: str, visitor: str) -> AppTest:
    monkeypatch.setenv("DLAPP_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["dlapp_owner"] = visitor
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def button(at: AppTest, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def test_a_stranger_cannot_continue_rename_or_delete_a_run_even_by_forging_the_clicks(
    data_dir, shared_mode, monkeypatch
):
    before = snapshot(data_dir)
    at = visit(data_dir, monkeypatch, "pages/runs.py", BOB)
    assert at.dataframe[0].value["yours"].tolist() == [False]
    for label in ("Continue training", "Rename", "Delete run"):
        assert button(at, label).disabled, label
    assert NOT_YOURS in [c.value for c in at.caption]
    for label in ("Continue training", "Rename", "Delete run"):
        forged = button(at, label)
        forged._value = True  # a click a browser cannot send (AppTest refuses it), as a forged message would
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    assert snapshot(data_dir) == before


def test_a_stranger_may_copy_the_settings_into_a_run_of_their_own(data_dir, shared_mode, monkeypatch):
    before = snapshot(data_dir)
    at = visit(data_dir, monkeypatch, "pages/runs.py", BOB)
    button(at, "Again with these settings").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["cfg_hidden_units"] == "16" and at.session_state["cfg_seed"] == 7
    assert snapshot(data_dir) == before  # filling the settings stores nothing


def test_the_owner_may_continue_rename_and_delete_their_run(data_dir, shared_mode, monkeypatch):
    at = visit(data_dir, monkeypatch, "pages/runs.py", ALICE)
    assert at.dataframe[0].value["yours"].tolist() == [True]  # the table ticks her own runs
    for label in ("Continue training", "Rename"):
        assert not button(at, label).disabled, label
    assert NOT_YOURS not in [c.value for c in at.caption]


def test_a_new_visitor_sees_only_their_own_drawings_on_draw(data_dir, shared_mode, monkeypatch):
    before = snapshot(data_dir)
    newcomer = visit(data_dir, monkeypatch, "pages/draw.py", owners.new_token())
    assert button(newcomer, "Test this model on your 0 drawing(s)").disabled
    assert button(newcomer, "Teach this model my handwriting").disabled  # no drawings of theirs yet
    bob = visit(data_dir, monkeypatch, "pages/draw.py", BOB)
    assert not button(bob, f"Test this model on your {BOB_DRAWINGS} drawing(s)").disabled
    assert not button(bob, "Teach this model my handwriting").disabled  # from alice's model: a new run of his
    assert snapshot(data_dir) == before


def test_over_the_jobs_quota_train_says_the_quota_and_when_it_frees_and_stores_nothing(
    data_dir, shared_mode, monkeypatch, tmp_path
):
    monkeypatch.setenv("DLAPP_MAX_JOBS_PER_OWNER", "2")
    store = RunStore(tmp_path)
    for _ in range(2):  # two runs of hers waiting in the queue (of this living process: they stay queued)
        store.owners.set("run", store.create_run(TINY), ALICE)
    before = snapshot(tmp_path)
    at = visit(tmp_path, monkeypatch, "pages/train.py", ALICE)
    button(at, "Train").click().run()
    assert [e.value.replace("\\", "") for e in at.error] == [  # shown as text: Markdown escapes removed
        "You already have 2 runs queued or running, and each person may have at most 2 queued or running; "
        "a place frees when one of them finishes or you stop it."
    ]
    assert snapshot(tmp_path) == before
    newcomer = visit(tmp_path, monkeypatch, "pages/train.py", BOB)  # the quota is per owner
    button(newcomer, "Train").click().run()
    assert not newcomer.error and len(RunStore(tmp_path).owners.owned("run", BOB)) == 1


# -- the engine -----------------------------------------------------------------------------------


def test_a_fine_tune_of_anothers_model_is_a_new_run_of_the_visitors_learnt_from_their_drawings_only(data_dir):
    from dlapp.finetune import latest_finetune, start_finetune, summary

    store = RunStore(data_dir)
    (alice_run,) = [run for run in store.runs() if store.owners.owner("run", run.id) == ALICE]
    parent_before = {k: v for k, v in snapshot(data_dir).items() if k != "store"}
    job = start_finetune(store, alice_run, 1, owner=BOB, drawings=store.owners.owned("drawing", BOB))
    assert job.wait(300) == "finished", job.error
    result = summary(store, job)
    assert result["drawings_used"] + result["heldout"] == BOB_DRAWINGS  # alice's 3 drawings are not used
    assert store.owners.owner("run", job.run_id) == BOB and result["parent_run_id"] == alice_run.id
    assert store.run(alice_run.id) == alice_run  # the parent's row and its model file are as they were
    after = snapshot(data_dir)
    assert all(after[name] == digest for name, digest in parent_before.items())
    assert latest_finetune(store, alice_run, store.owners.owned("run", BOB)).id == job.run_id  # Bob's Draw shows it
    assert latest_finetune(store, alice_run, store.owners.owned("run", ALICE)) is None  # Alice's does not
    store.delete(job.run_id)  # leave the module's store as the other tests expect it
    store.owners.forget("run", job.run_id)


def test_a_continued_run_keeps_its_owner_and_queues_as_theirs(tmp_path):
    from dlapp.resume import plan_continuation, start_continuation

    store = RunStore(tmp_path)
    first = TrainingJob(TINY, store, owner=ALICE).start()
    assert first.wait(300) == "finished", first.error
    job = start_continuation(store, plan_continuation(store.run(first.run_id), 1), start=False)
    assert job.owner == ALICE and store.owners.owner("run", first.run_id) == ALICE


def test_a_lesson_counts_every_run_against_the_quota_and_a_refused_one_queues_nothing(
    shared_mode, monkeypatch, tmp_path
):
    monkeypatch.setenv("DLAPP_MAX_JOBS_PER_OWNER", "2")  # a teacher's tighter quota
    at = visit(tmp_path, monkeypatch, "pages/learn.py", BOB)
    at.selectbox(key="learn_lesson").set_value("optimisers").run()
    before = snapshot(tmp_path)  # after the page made its tables in the new store
    button(at, "Run this lesson's experiment (7 runs)").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value.replace("\\", "") for e in at.error] == [
        "This asks for 7 runs at once, but each person may have at most 2 queued or running; "
        "ask for 2 or fewer, or ask the teacher to raise max_jobs_per_owner."
    ]
    assert snapshot(tmp_path) == before


def test_a_resumed_search_stays_its_owners_and_so_do_its_new_trials(tmp_path):
    from dlapp import experiments
    from dlapp.experiment_plan import parse_dimension

    store = RunStore(tmp_path)
    space = [parse_dimension("learning_rate=1e-3:3e-2:log")]
    runner = experiments.start_search(TINY.replace(epochs=1), space, store, trials=2, owner=ALICE)
    while not runner.run_ids:  # the first trial is queued: stop the search there
        time.sleep(0.05)
    runner.stop()
    assert experiments.wait_all(runner, timeout=300) == "stopped"
    resumed = experiments.resume(runner.experiment_id, RunStore(tmp_path))
    assert experiments.wait_all(resumed, timeout=300) == "finished"
    assert resumed.owner == ALICE and len(resumed.run_ids) >= 2
    assert all(store.owners.owner("run", run_id) == ALICE for run_id in resumed.run_ids)


def test_the_handwriting_lesson_reads_only_the_visitors_own_finetunes(shared_mode, monkeypatch, tmp_path):
    store = RunStore(tmp_path)
    parent = store.create_run(TINY)
    for who, after in ((BOB, 0.6), (ALICE, 0.85)):  # Alice's is the newest
        child = store.create_run(TINY, parent_run_id=parent)
        store.owners.set("run", child, who)
        metrics = {"heldout_accuracy_before": 0.5, "heldout_accuracy_after": after, "heldout": 20.0}
        metrics |= {"drawings_used": 80.0, "test_accuracy_before": 0.97, "test_accuracy_after": 0.965}
        store.finish_run(child, "finished", metrics=metrics, seconds=1.0, samples_per_second=1.0)
    at = visit(tmp_path, monkeypatch, "pages/learn.py", BOB)
    at.selectbox(key="learn_lesson").set_value("your-handwriting").run()
    shown = next(s.value for s in at.success if "What your drawings showed" in s.value).replace("\\", "")
    assert "50.0% right before, 60.0% after" in shown and "85.0%" not in shown  # Bob's fine-tune, not Alice's
