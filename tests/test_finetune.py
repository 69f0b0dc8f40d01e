"""Fine-tuning on the person's drawings: the held-out split, the replay mix, readiness, and a real short fit."""

import json
import sqlite3

import numpy as np
import pytest

from dlapp import cli
from dlapp import store as store_module
from dlapp.config import RunConfig
from dlapp.finetune import SUMMARY_KEYS, mix_replay, plan_finetune
from dlapp.handwriting import assign_heldout, drawings_needed, needed_sentence, split_drawings, suspects
from dlapp.store import RunStore
from dlapp.tools.sketches import drawn_digits


def _save(store: RunStore, labels, seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    return [store.add_drawing(int(label), rng.uniform(0, 1, (28, 28))) for label in labels]


def test_the_heldout_split_is_stratified_and_at_least_a_fifth_of_each_digit():
    labels = [d for d in range(10) for _ in range(11)] + [3, 3, 3]
    flags = assign_heldout(labels, [None] * len(labels))
    for digit in range(10):
        mine = [f for f, label in zip(flags, labels, strict=True) if label == digit]
        assert 1 <= sum(mine) and sum(mine) / len(mine) >= 0.2


def test_the_heldout_split_never_moves_when_drawings_are_added_or_deleted(tmp_path):
    store = RunStore(tmp_path)
    first = _save(store, [d % 10 for d in range(40)])
    before = split_drawings(store)
    held_before = {int(i) for i, f in zip(first, _flags(store), strict=True) if f}
    store.delete_drawing(first[0])  # the first 0: held out, so the next 0s would shift if ranks decided
    _save(store, [d % 10 for d in range(25)], seed=1)
    after = split_drawings(store)
    held_after = {i for i, f in zip(store.drawing_ids(), _flags(store), strict=True) if f}
    assert held_before - {first[0]} <= held_after
    assert not (held_after & (set(first) - held_before))  # no trained-on drawing became held out
    assert len(before.heldout_y) == 10 and after.total == 64


def _flags(store: RunStore) -> list[bool]:
    with sqlite3.connect(store.db_path) as db:
        rows = db.execute("SELECT heldout FROM drawing_split ORDER BY drawing_id").fetchall()
    return [bool(r[0]) for r in rows]


def test_the_replay_mix_has_the_stated_share():
    new_x, new_y = np.ones((40, 28, 28), np.float32), np.full(40, 7)
    old_x, old_y = np.zeros((1000, 28, 28), np.float32), np.full(1000, 3)
    for share in (0.0, 0.25, 0.5, 0.75):
        x, y = mix_replay(new_x, new_y, old_x, old_y, share)
        assert np.isclose((y == 3).mean(), share, atol=0.01)
        assert (x[y == 7] == 1).all() and (x[y == 3] == 0).all()  # images stay with their labels
    with pytest.raises(ValueError, match="replay share"):
        mix_replay(new_x, new_y, old_x, old_y, 1.0)


def test_too_few_drawings_says_how_many_more():
    assert drawings_needed(np.array([], int)) == 20
    assert drawings_needed(np.array([1] * 19 + [7])) == 2  # two more 7s (which also makes 22 in all)
    assert drawings_needed(np.array([d % 10 for d in range(30)])) == 0
    assert needed_sentence(np.array([d % 10 for d in range(30)])) is None
    sentence = needed_sentence(np.array([1] * 19 + [7]))
    assert sentence.startswith("Save 2 more drawings (including 2 more 7s)")


def test_blank_drawings_and_labels_every_model_rules_out_are_listed():
    images = np.zeros((3, 28, 28), np.float32)
    images[1:, 10:18, 12:16] = 1.0
    probabilities = [np.array([0.3, 0.001, 0.9]), np.array([0.2, 0.005, 0.5])]
    assert suspects(images, np.array([3, 3, 1]), probabilities) == [0, 1]


def test_an_autoencoder_or_too_few_drawings_is_refused_in_one_sentence(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(RunConfig.from_flat(arch="autoencoder"))
    with pytest.raises(ValueError, match="autoencoder"):
        plan_finetune(store, store.run(run_id))
    classifier = store.create_run(RunConfig.from_flat(arch="mlp"))
    store.finish_run(classifier, "finished", metrics={}, seconds=1.0, samples_per_second=1.0)
    store.save_model(classifier, _tiny_model())
    with pytest.raises(ValueError, match="Save 20 more drawings"):
        plan_finetune(store, store.run(classifier))


def _tiny_model():
    import keras

    inputs = keras.Input((28, 28))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))


def test_an_old_store_gains_parent_run_id_and_deleting_the_parent_keeps_the_child(tmp_path):
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:  # the runs table as the first release wrote it
        old = store_module.SCHEMA.replace(",\n    parent_run_id INTEGER", "")
        db.executescript(old)
    store = RunStore(tmp_path)
    parent = store.create_run(RunConfig())
    child = store.create_run(RunConfig(), parent_run_id=parent)
    store.finish_run(parent, "finished", metrics={}, seconds=1.0, samples_per_second=1.0)
    store.delete(parent)
    assert store.run(child).parent_run_id == parent
    assert [run.id for run in store.runs()] == [child]


def test_fine_tuning_on_a_new_style_raises_heldout_accuracy(tmp_path, capsys):
    """A real short fit from the command line: a weak MNIST model, then digits drawn transposed
    (a style MNIST never has); the last stdout line is the documented JSON."""
    store = RunStore(tmp_path)
    config = RunConfig.from_flat(arch="cnn", dataset="mnist-sample", epochs=2, train_subset=600, seed=1)
    from dlapp.jobs import TrainingJob

    parent = TrainingJob(config, store).start()
    assert parent.wait(300) == "finished"
    images, labels, _ = drawn_digits(100, seed=3)
    for image, label in zip(images, labels, strict=True):
        store.add_drawing(int(label), image.T)
    argv = ["finetune", str(parent.run_id), "--epochs", "3", "--json", "--data-dir", str(tmp_path)]
    assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(result) == list(SUMMARY_KEYS)
    assert result["parent_run_id"] == parent.run_id and result["heldout"] == 20 and result["drawings_used"] == 80
    assert result["heldout_accuracy_after"] >= result["heldout_accuracy_before"] + 0.2
    epochs = store.epochs(result["run_id"])
    assert len(epochs) == 3 and "val_accuracy" in epochs[0]  # its own curves, validated on the held-out drawings


def test_the_command_line_refuses_too_few_drawings_in_one_line(tmp_path, capsys):
    store = RunStore(tmp_path)
    run_id = store.create_run(RunConfig.from_flat(arch="mlp"))
    store.save_model(run_id, _tiny_model())
    store.finish_run(run_id, "finished", metrics={}, seconds=1.0, samples_per_second=1.0)
    _save(store, [1, 2, 3])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["finetune", str(run_id), "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1
    assert "Save 17 more drawings (including 2 more 1s, 2 more 2s, 2 more 3s)" in err
