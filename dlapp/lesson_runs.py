"""A lesson's experiment in the experiments engine, and its runs read back for the page.

`start_lesson` queues one run per variant as a grid experiment named after the lesson (so
the Experiments and Runs pages list it like any other); `latest_lesson_experiment` finds the
newest one again after a reload; `lesson_runs` turns its members into `LessonRun`s for the
observation, from the store's own epoch rows and metrics.
"""

from __future__ import annotations

from typing import Any

from dlapp.config import RunConfig
from dlapp.experiment_store import Experiment, ExperimentStore
from dlapp.lesson_observations import LessonRun
from dlapp.lessons import Lesson, lesson_configs
from dlapp.store import RunStore

NAME_PREFIX = "Lesson "


def experiment_name(lesson: Lesson) -> str:
    return NAME_PREFIX + lesson.title


def varied_settings(lesson: Lesson, configs: list[RunConfig]) -> dict[str, list[Any]]:
    """Each setting some variant changes -> its value in every run, in variant order (JSON types)."""
    names = sorted({name for variant in lesson.variants for name in variant.settings})
    flats = [config.flat() for config in configs]
    return {name: [flat[name] for flat in flats] for name in names}


def start_lesson(lesson: Lesson, store: RunStore, dataset: str = "mnist-sample"):
    """Queue the lesson's runs as one experiment; returns its ExperimentRunner. ValueError before queueing."""
    from dlapp.experiment_plan import PlannedRun
    from dlapp.experiments import start_planned

    planned = lesson_configs(lesson, dataset)
    configs = [config for _, config in planned]
    varied = varied_settings(lesson, configs)
    runs = [
        PlannedRun({key: values[index] for key, values in varied.items()}, config)
        for index, config in enumerate(configs)
    ]
    plan = {"vary": varied, "lesson": lesson.key}
    runner = start_planned(experiment_name(lesson), configs[0], runs, store, plan)
    for run_id, (variant, _) in zip(runner.run_ids, planned, strict=True):
        store.rename(run_id, f"{experiment_name(lesson)}: {variant.label}")  # the variant's words, not its settings
    return runner


def latest_lesson_experiment(store: RunStore, lesson: Lesson) -> Experiment | None:
    name = experiment_name(lesson)
    matching = [e for e in ExperimentStore(store).experiments() if e.name == name]
    return max(matching, key=lambda e: e.id) if matching else None


def lesson_runs(store: RunStore, experiment_id: int, lesson: Lesson) -> list[LessonRun]:
    """The experiment's runs, labelled by the lesson's variants in the order they were queued."""
    members = ExperimentStore(store).members(experiment_id)
    out = []
    for variant, member in zip(lesson.variants, members, strict=False):
        run = store.run(member.run_id)
        out.append(
            LessonRun(
                label=variant.label,
                epochs=store.epochs(member.run_id),
                settings=dict(variant.settings),
                metrics=dict(run.metrics or {}),
                parameters=member.parameters,
                confusion=run.confusion,
                seconds=run.seconds,
                group=variant.group,
            )
        )
    return out
