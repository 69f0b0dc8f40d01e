"""The Learn page: one lesson at a time - words, formula, one button, live curves, what the runs showed."""

from __future__ import annotations

import streamlit as st

from dlapp.data import DATASETS, is_cached
from dlapp.errors import DatasetUnavailable, StoreError
from dlapp.lessons import LESSONS, Lesson
from dlapp.store import ACTIVE, RunStore
from dlapp.ui.common import STATUS_ICONS, dataset_title, friendly_errors, keras_ready, load_dataset
from dlapp.ui.text import escape_markdown

REFRESH_SECONDS = 2.0
PICK_KEY = "learn_lesson"
SAMPLE = "mnist-sample"
CHARTS = {"displayModeBar": False}


def pick_lesson() -> Lesson:
    by_key = {lesson.key: lesson for lesson in LESSONS}
    key = st.selectbox("Lesson", list(by_key), key=PICK_KEY, format_func=lambda k: by_key[k].title)
    return by_key[key]


def render_lesson_text(lesson: Lesson) -> None:
    st.subheader(lesson.title, anchor=False)
    st.markdown(lesson.explanation)
    for formula in lesson.formulas:
        st.latex(formula)


def _experiment_key(lesson: Lesson) -> str:
    return f"learn_experiment_{lesson.key}"


def lesson_experiment(store: RunStore, lesson: Lesson):
    """This session's experiment for the lesson, else the newest one in the store (after a reload)."""
    from dlapp.experiment_store import ExperimentStore
    from dlapp.lesson_runs import latest_lesson_experiment

    own = st.session_state.get(_experiment_key(lesson))
    if own is not None:
        try:
            return ExperimentStore(store).experiment(own)
        except StoreError:
            st.session_state.pop(_experiment_key(lesson), None)  # deleted meanwhile
    return latest_lesson_experiment(store, lesson)


def render_start(store: RunStore, lesson: Lesson, running: bool) -> None:
    """The dataset (classifier lessons) and the one button; an offline full dataset offers the sample."""
    dataset_key = f"learn_dataset_{lesson.key}"
    choices = list(DATASETS) if lesson.key != "autoencoders" else [SAMPLE, "mnist", "fashion_mnist"]
    st.session_state.setdefault(dataset_key, SAMPLE)
    dataset = st.selectbox(
        "Dataset", choices, key=dataset_key, format_func=dataset_title, help=_dataset_help(), disabled=running
    )
    runs = len(lesson.variants)
    label = "Run this lesson's experiment" + (f" ({runs} runs)" if runs > 1 else "")
    st.button(
        label,
        type="primary",
        icon=":material/play_arrow:",
        disabled=running,
        on_click=_start,
        args=(store, lesson, dataset),
        key=f"learn_start_{lesson.key}",
        help="Queues the runs; they keep training if you switch pages." if not running else "It is running.",
    )
    problem = st.session_state.get(f"learn_problem_{lesson.key}")
    if problem:
        st.warning(escape_markdown(problem), icon=":material/cloud_off:")
        st.button(
            "Use the bundled sample instead",
            on_click=_use_sample,
            args=(lesson,),
            key=f"learn_sample_{lesson.key}",
        )


def _dataset_help() -> str:
    return (
        "The bundled sample (5,000 real MNIST digits) works offline and trains fast. "
        "The full sets download once, then stay on this machine."
    )


def _use_sample(lesson: Lesson) -> None:
    st.session_state[f"learn_dataset_{lesson.key}"] = SAMPLE
    st.session_state.pop(f"learn_problem_{lesson.key}", None)


def _start(store: RunStore, lesson: Lesson, dataset: str) -> None:
    """Button callback: check the dataset can be had, then queue the lesson's runs."""
    from dlapp.lesson_runs import start_lesson

    st.session_state.pop(f"learn_problem_{lesson.key}", None)
    if dataset != SAMPLE and not is_cached(dataset):
        try:
            load_dataset(dataset)
        except DatasetUnavailable as exc:
            st.session_state[f"learn_problem_{lesson.key}"] = f"{exc} The bundled sample works offline."
            return
    keras_ready()
    with friendly_errors():
        runner = start_lesson(lesson, store, dataset)
        st.session_state[_experiment_key(lesson)] = runner.experiment_id


def render_progress(store: RunStore, lesson: Lesson, experiment_id: int) -> None:
    """Live while this process runs the lesson's experiment; then once more, with the observation."""
    from dlapp.experiments import get_runner

    if get_runner(experiment_id) is not None:
        _live(store, lesson, experiment_id)
    else:
        _lesson_body(store, lesson, experiment_id, live=False)


@st.fragment(run_every=REFRESH_SECONDS)
def _live(store: RunStore, lesson: Lesson, experiment_id: int) -> None:
    from dlapp.experiments import get_runner

    if get_runner(experiment_id) is None:
        st.rerun()  # it ended: the whole page redraws with the observation, without a timer
    _lesson_body(store, lesson, experiment_id, live=True)


def _lesson_body(store: RunStore, lesson: Lesson, experiment_id: int, live: bool) -> None:
    from dlapp.lesson_runs import lesson_runs

    runs = lesson_runs(store, experiment_id, lesson)
    statuses = [store.run(run_id).status for run_id in _run_ids(store, experiment_id)]
    _status_line(store, experiment_id, statuses, live)
    from dlapp.ui.learn_views import render_extra, render_lesson_curves

    render_lesson_curves(lesson, runs, store, experiment_id)
    if not live:
        text = lesson.observe(runs)
        if any(status != "finished" for status in statuses):
            text += " (Read from the runs that got this far; not every run finished.)"
        st.success(f"**What your runs showed.** {escape_markdown(text)}", icon=":material/lightbulb:")
    render_extra(lesson, runs, store, experiment_id, live)


def _run_ids(store: RunStore, experiment_id: int) -> list[int]:
    from dlapp.experiment_store import ExperimentStore

    return [member.run_id for member in ExperimentStore(store).members(experiment_id)]


def _status_line(store: RunStore, experiment_id: int, statuses: list[str], live: bool) -> None:
    done = sum(status not in ACTIVE for status in statuses)
    training = statuses.count("running")
    text = f"{done} of {len(statuses)} runs done"
    if live and not training:
        text += " · " + _queue_place(store, experiment_id)
    elif training:
        text += " · training now"
    icon = STATUS_ICONS["running" if live else "finished"]
    text_col, stop_col = st.columns([4, 1], vertical_alignment="center")
    text_col.markdown(f"{icon} {text}")
    if live:
        _stop_button(stop_col, experiment_id)


def _queue_place(store: RunStore, experiment_id: int) -> str:
    from dlapp.jobs import get_job

    places = [job.queue_position for job in map(get_job, _run_ids(store, experiment_id)) if job is not None]
    places = [place for place in places if place is not None]
    if not places:
        return "starting"
    ahead = min(places) - 1 + sum(run.status == "running" for run in store.runs())
    return f"waiting in the queue: {ahead} run(s) ahead of this lesson; it starts when they finish"


def _stop_button(column, experiment_id: int) -> None:
    from dlapp.experiments import get_runner

    runner = get_runner(experiment_id)
    if runner is not None and column.button(
        "Stop",
        key=f"learn_stop_{experiment_id}",
        icon=":material/stop_circle:",
        disabled=runner.stop_requested,
        help="Cancel the queued runs and stop the training one after its batch; finished runs are kept.",
    ):
        runner.stop()
