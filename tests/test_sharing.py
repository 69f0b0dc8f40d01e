"""Shared mode's engine: detection, ownership rules, the owners table, quotas, the admin check, the fair queue."""

from __future__ import annotations

import dataclasses
import hmac
from types import SimpleNamespace

import pytest

from dlapp import owners, sharing
from dlapp.config import DataConfig, RunConfig, TrainConfig
from dlapp.owners import may_manage, refusal
from dlapp.quotas import (
    UploadLog,
    estimated_seconds,
    jobs_refusal,
    measured_speed,
    run_length_refusal,
    training_images,
    upload_size_refusal,
)
from dlapp.scheduler import Scheduler
from dlapp.sharing import AdminGate, QuotaSettings
from dlapp.store import RunStore

# -- shared mode and its settings -------------------------------------------------------------


def test_shared_mode_is_off_by_default_and_on_by_env_or_secrets_section(tmp_path):
    assert not sharing.is_shared(env={}, section=None) or sharing.secrets_section() is not None
    assert sharing.is_shared(env={"DLAPP_SHARED": "1"}, section={})
    assert not sharing.is_shared(env={"DLAPP_SHARED": "0"}, section=None) or sharing.secrets_section() is not None
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[dlapp]\nadmin_password = "pw"\n')
    section = sharing.secrets_section((tmp_path / "missing.toml", secrets))
    assert section == {"admin_password": "pw"}
    assert sharing.is_shared(env={}, section=section)
    other = tmp_path / "other.toml"
    other.write_text("[connections]\nx = 1\n")
    assert sharing.secrets_section((other,)) is None


def test_quota_settings_have_defaults_and_read_secrets_before_env():
    assert sharing.quota_settings(env={}, section={}) == QuotaSettings(7, 10.0, 20.0, 20)
    env = {"DLAPP_MAX_JOBS_PER_OWNER": "3", "DLAPP_MAX_RUN_MINUTES": "5"}
    settings = sharing.quota_settings(env=env, section={"max_run_minutes": 1.5})
    assert settings.max_jobs_per_owner == 3 and settings.max_run_minutes == 1.5
    with pytest.raises(ValueError, match="max_uploads_per_hour"):
        sharing.quota_settings(env={"DLAPP_MAX_UPLOADS_PER_HOUR": "-1"}, section={})


# -- the admin password -------------------------------------------------------------------------


def test_admin_password_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    gate = AdminGate("sesame")
    assert gate.check("sesame")[0]
    assert not gate.check("sesam")[0]
    assert calls == [(b"sesame", b"sesame"), (b"sesam", b"sesame")]


def test_after_five_wrong_tries_in_a_minute_even_the_right_password_is_refused_until_it_passes():
    now = [1000.0]
    gate = AdminGate("sesame", clock=lambda: now[0])
    for _ in range(5):
        assert gate.check("guess") == (False, "Wrong admin password.")
    unlocked, sentence = gate.check("sesame")
    assert not unlocked and sentence == "Too many wrong passwords; try again in 61 seconds."
    now[0] += 30
    assert "try again in 31 seconds" in gate.check("sesame")[1]
    now[0] += 31
    assert gate.check("sesame")[0]


def test_no_admin_password_unlocks_nothing():
    assert sharing.admin_password(section={}) is None
    assert sharing.admin_password(section={"admin_password": ""}) is None
    assert not AdminGate(None).check("")[0]


# -- ownership ------------------------------------------------------------------------------------


def test_only_the_owner_or_an_admin_may_manage_in_shared_mode():
    assert may_manage("a", "a", shared=True)
    assert not may_manage("b", "a", shared=True)
    assert may_manage("b", "a", shared=True, admin=True)
    assert not may_manage(None, "a", shared=True)
    assert not may_manage("a", None, shared=True)  # made before sharing: admin only
    assert may_manage(None, None, shared=False)  # one person owns everything
    assert refusal("a", "a", shared=True) is None
    assert "only they or the teacher" in refusal("b", "a", shared=True)
    assert "before sharing was on" in refusal("b", None, shared=True)


def test_owner_tokens_are_random_and_forged_ones_are_not_tokens():
    first, second = owners.new_token(), owners.new_token()
    assert first != second and owners.is_token(first)
    for forged in ("", "t-", "t-xyz", "../../etc/passwd", first.upper(), first + "0", None, 42):
        assert not owners.is_token(forged)


def test_the_owners_table_lives_in_the_run_store_and_keeps_owners_apart(tmp_path):
    store = RunStore(tmp_path)
    tiny = RunConfig(data=DataConfig(train_subset=200), train=TrainConfig(epochs=1))
    mine, theirs = store.create_run(tiny), store.create_run(tiny)
    store.owners.set("run", mine, "alice")
    store.owners.set("run", theirs, "bob")
    store.owners.set("drawing", 1, "alice")
    reopened = RunStore(tmp_path)  # the table survives a restart
    assert reopened.owners.owner("run", mine) == "alice"
    assert reopened.owners.owned("run", "alice") == {mine}
    assert reopened.owners.owned("drawing", "alice") == {1}
    assert reopened.owners.owner("run", 999) is None
    with pytest.raises(ValueError, match="Unknown owned kind"):
        reopened.owners.set("model", 1, "alice")


def test_a_job_started_by_an_owner_records_its_owner(tmp_path):
    from dlapp.jobs import TrainingJob

    store = RunStore(tmp_path)
    job = TrainingJob(RunConfig(data=DataConfig(train_subset=200), train=TrainConfig(epochs=1)), store, owner="alice")
    assert job.owner == "alice" and store.owners.owner("run", job.run_id) == "alice"


# -- quotas ---------------------------------------------------------------------------------------


def test_the_run_estimate_is_images_times_epochs_over_measured_speed():
    config = RunConfig(data=DataConfig(dataset="mnist", validation_split=0.1), train=TrainConfig(epochs=5))
    assert training_images(config) == 54_000
    assert estimated_seconds(config, 900.0) == pytest.approx(300.0)
    subset = dataclasses.replace(config, data=DataConfig(dataset="mnist", train_subset=200, validation_split=0.5))
    assert training_images(subset) == 100
    sample = RunConfig.from_flat(dataset="mnist-sample", pen_digits=1500)  # as `prepare` adds them
    assert training_images(sample) == 3_600 + 1_500
    assert training_images(sample.replace(train_subset=400)) == 360 + 150


def test_measured_speed_is_the_median_of_finished_runs_of_that_architecture():
    sample = RunConfig.from_flat(dataset="mnist-sample", validation_split=0.1)  # 3,600 training images

    def run(arch, status, speed, epochs=3):
        measured = {"samples_per_second": speed, "config": sample, "epochs_completed": epochs}
        return SimpleNamespace(arch=arch, status=status, **measured)

    runs = [run("cnn", "finished", 100), run("cnn", "finished", 300), run("cnn", "finished", 200)]
    runs += [run("cnn", "failed", 1), run("mlp", "finished", 9000), run("cnn", "finished", None)]
    runs += [run("cnn", "finished", 5, epochs=2)]  # 7,200 samples: mostly start-up, not a measure of speed
    assert measured_speed("cnn", runs) == 200
    assert measured_speed("resnet", runs) == 150.0  # nothing measured yet: the conservative fallback


def test_a_run_over_the_minutes_quota_is_refused_with_its_estimate():
    settings = QuotaSettings(max_run_minutes=10)
    long = RunConfig(data=DataConfig(dataset="mnist", validation_split=0.0), train=TrainConfig(epochs=20))
    sentence = run_length_refusal(long, 1000.0, settings)
    assert sentence.startswith("This run would train for about 20 minutes (60,000 images × 20 epochs at 1,000")
    assert "10 minutes limit per run" in sentence
    short = dataclasses.replace(long, train=TrainConfig(epochs=10))
    assert run_length_refusal(short, 1000.0, settings) is None  # exactly 10 minutes is allowed


def test_jobs_per_owner_quota_counts_every_run_of_an_experiment():
    settings = QuotaSettings(max_jobs_per_owner=2)
    assert jobs_refusal(0, settings) is None and jobs_refusal(1, settings) is None
    assert "at most 2 queued or running" in jobs_refusal(2, settings)
    assert "a place frees when one of them finishes" in jobs_refusal(2, settings)
    assert jobs_refusal(0, settings, adding=2) is None
    assert "asks for 3 runs at once" in jobs_refusal(0, settings, adding=3)
    assert jobs_refusal(1, settings, adding=2) is not None


def test_uploads_are_limited_in_size_and_per_owner_per_hour():
    settings = QuotaSettings(max_upload_mb=20, max_uploads_per_hour=3)
    assert upload_size_refusal(20_000_000, settings) is None
    assert "21.0 MB, over this server's 20 MB limit" in upload_size_refusal(21_000_000, settings)
    now = [0.0]
    log = UploadLog(clock=lambda: now[0])
    for minute in range(2):
        now[0] = minute * 60.0
        assert log.refusal("alice", settings) is None
    assert log.refusal("bob", settings) is None  # another owner's uploads do not count
    now[0] = 300.0
    assert log.refusal("alice", settings, digest="same") is None
    assert log.refusal("alice", settings, digest="same") is None  # the same file on a rerun: not counted again
    now[0] = 600.0
    assert log.refusal("alice", settings).endswith("the next upload is allowed in 50 minutes.")
    now[0] = 3600.0
    assert log.refusal("alice", settings) is None  # the first upload is an hour old


# -- the fair queue -------------------------------------------------------------------------------


def _queued(fair: bool):
    started = []
    scheduler = Scheduler(launch=started.append, limit=1, fair=fair)
    blocker = SimpleNamespace(owner="z", name="Z1")
    scheduler.submit(blocker)  # holds the one slot while the others queue
    jobs = [
        SimpleNamespace(owner=o, name=f"{o.upper()}{i}")
        for o, n in (("a", 3), ("b", 2), ("c", 2))
        for i in range(1, n + 1)
    ]
    for job in jobs:
        scheduler.submit(job)
    return scheduler, started, blocker, jobs


def _drain(scheduler, started, first):
    running = first
    while running is not None:
        scheduler.done(running)
        running = started[-1] if started[-1] is not running else None
    return [job.name for job in started]


def test_shared_mode_queue_takes_owners_in_turn():
    scheduler, started, blocker, jobs = _queued(fair=True)
    assert [scheduler.position(j) for j in jobs] == [1, 4, 7, 2, 5, 3, 6]
    assert _drain(scheduler, started, blocker) == ["Z1", "A1", "B1", "C1", "A2", "B2", "C2", "A3"]


def test_one_person_queue_stays_first_in_first_out():
    scheduler, started, blocker, jobs = _queued(fair=False)
    assert [scheduler.position(j) for j in jobs] == list(range(1, 8))
    assert _drain(scheduler, started, blocker) == ["Z1", "A1", "A2", "A3", "B1", "B2", "C1", "C2"]


def test_a_newcomer_waits_behind_one_run_of_a_busy_owner_not_all_of_them():
    started = []
    scheduler = Scheduler(launch=started.append, limit=1, fair=True)
    a_jobs = [SimpleNamespace(owner="a", name=f"A{i}") for i in range(1, 4)]
    for job in a_jobs:
        scheduler.submit(job)
    newcomer = SimpleNamespace(owner="b", name="B1")
    scheduler.submit(newcomer)
    assert scheduler.position(newcomer) == 1  # A1 runs; B1 is next, ahead of A2 and A3


def test_an_experiment_and_each_of_its_runs_belong_to_whoever_started_it(tmp_path):
    from dlapp import experiments

    store = RunStore(tmp_path)
    base = RunConfig.from_flat(arch="mlp", hidden_units=(8,), train_subset=200, epochs=1)
    runner = experiments.start_grid(base, {"batch_size": [32, 64]}, store, name="mine", owner="alice")
    assert experiments.wait_all(runner, timeout=300) == "finished"
    assert store.owners.owner("experiment", runner.experiment_id) == "alice"
    assert store.owners.owned("run", "alice") == set(runner.run_ids) and len(runner.run_ids) == 2


def test_a_personal_test_set_keeps_only_the_visitors_own_drawings(tmp_path):
    import numpy as np

    store = RunStore(tmp_path)
    mine = store.add_drawing(3, np.full((28, 28), 0.5, np.float32))
    store.owners.set("drawing", mine, "alice")
    theirs = store.add_drawing(7, np.zeros((28, 28), np.float32))
    store.owners.set("drawing", theirs, "bob")
    images, labels = store.drawings()
    kept_images, kept_labels = owners.keep_owned(
        images, labels, store.drawing_ids(), store.owners.owned("drawing", "alice")
    )
    assert kept_labels.tolist() == [3] and kept_images.shape == (1, 28, 28) and kept_images[0, 0, 0] == 0.5


def test_the_default_quota_lets_every_lesson_queue_all_its_runs():
    from dlapp.lessons import LESSONS, lesson_configs

    largest = max(len(lesson_configs(lesson)) for lesson in LESSONS)
    assert jobs_refusal(0, QuotaSettings(), adding=largest) is None
    assert jobs_refusal(0, QuotaSettings(), adding=largest + 1) is not None
