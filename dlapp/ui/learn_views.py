"""What a lesson shows besides its words: the overlaid curves, lesson 1's script, the gradient
chart, the efficiency scatter, a canvas to draw on for the CNN lessons (the Draw page's canvas
and guess) and links to the pages that show the rest."""

from __future__ import annotations

import streamlit as st

from dlapp.lesson_readers import LessonRun
from dlapp.lesson_types import Lesson
from dlapp.lessons import lesson_configs
from dlapp.store import RunStore

CHARTS = {"displayModeBar": False}
METRICS = {"accuracy": "accuracy", "loss": "loss"}


def render_lesson_curves(lesson: Lesson, runs: list[LessonRun], store: RunStore, experiment_id: int) -> None:
    """Every run of the lesson overlaid; lesson 1 shows its Keras script beside the curves."""
    if lesson.extra == "code":
        curves_col, code_col = st.columns([1, 1], gap="large")
        with curves_col:
            _curves(lesson, runs)
        with code_col:
            _script(store, experiment_id)
    else:
        _curves(lesson, runs)


def _curves(lesson: Lesson, runs: list[LessonRun]) -> None:
    from dlapp.experiment_plots import experiment_curves

    choices = ["loss"] if lesson.extra == "autoencoder" else ["accuracy", "loss"]
    first = "loss" if lesson.curve == "val_loss" else choices[0]
    metric = st.segmented_control(
        "Curve", choices, default=first, key=f"learn_metric_{lesson.key}", label_visibility="collapsed"
    )
    metric = metric or first  # clicking the selected option again clears it
    if not any(run.epochs for run in runs):
        st.caption("The curves appear here after each run's first epoch.")
        return
    figure = experiment_curves([(run.label, run.epochs) for run in runs], metric)
    st.plotly_chart(figure, config=CHARTS, key=f"learn_chart_{lesson.key}")


def _script(store: RunStore, experiment_id: int) -> None:
    from dlapp.codegen import generate_script
    from dlapp.experiment_store import ExperimentStore

    members = ExperimentStore(store).members(experiment_id)
    if not members:
        return
    config = store.run(members[0].run_id).config
    st.markdown("**The same network as a Keras script**")
    st.code(generate_script(config), language="python", height=420)


def render_extra(lesson: Lesson, runs: list[LessonRun], store: RunStore, experiment_id: int, live: bool) -> None:
    if lesson.extra == "gradients":
        _gradients(runs, live)
    elif lesson.extra == "efficiency" and not live:
        render_efficiency(store)
    elif lesson.extra in DRAWN and not live and (cnn := _drawable_run(store, experiment_id)) is not None:
        render_lesson_drawing(lesson, cnn)
    elif lesson.extra in LINKS:
        page, text = LINKS[lesson.extra]
        st.page_link(page, label=text, icon=":material/arrow_forward:")


LINKS = {
    "feature_maps": ("pages/draw.py", "Draw a digit and see the CNN's feature maps, layer by layer"),
    "autoencoder": ("pages/evaluate.py", "See the reconstructions and the 2-D latent map on the Evaluate page"),
    "saliency": ("pages/draw.py", "Draw a digit and see its saliency map and forward pass"),
}


DRAWN = {  # lessons whose CNN the learner draws for, right under the lesson
    "feature_maps": "Draw a digit: the CNN's guess; open “The forward pass of your drawing” for its feature maps",
    "saliency": "Draw a digit: the CNN's guess and its saliency map, the pixels that moved the guess most",
}


def _drawable_run(store: RunStore, experiment_id: int):
    """The lesson's CNN run with a saved model, or None (not trained yet, or deleted)."""
    import os

    from dlapp.experiment_store import ExperimentStore

    for member in ExperimentStore(store).members(experiment_id):
        run = store.run(member.run_id)
        if run.arch == "cnn" and run.model_path and os.path.exists(run.model_path):
            return run
    return None


def render_lesson_drawing(lesson: Lesson, run) -> None:
    """The Draw page's canvas and guess, for this lesson's CNN."""
    from dlapp.ui.drawing import prepare_model, render_canvas, render_guess

    st.markdown(f"**{DRAWN[lesson.extra]}**")
    if not prepare_model(run):  # loads the model before the first stroke; one sentence if it cannot
        return
    st.space("medium")  # room for the canvas toolbar, which floats above the canvas
    canvas_col, result_col = st.columns([2, 3], gap="large")
    with canvas_col:
        rgba = render_canvas(key=f"learn_canvas_{lesson.key}")
    with result_col:
        render_guess(run, rgba)


def _gradients(runs: list[LessonRun], live: bool) -> None:
    from dlapp.lesson_plots import gradient_profile, last_layer_norms

    profiles = [(run.label, last_layer_norms(run.epochs)) for run in runs]
    profiles = [(label, norms) for label, norms in profiles if norms]
    if not profiles:
        if live:  # once finished, the observation says so
            st.caption("No per-layer gradients are recorded for these runs, so only the curves compare them.")
        return
    st.plotly_chart(gradient_profile(profiles), config=CHARTS)


def render_efficiency(store: RunStore) -> None:
    """Size, speed and accuracy of the runs so far; measuring loads each model, so it waits for a click."""
    from dlapp.efficiency import measure_runs, observe_efficiency
    from dlapp.lesson_plots import efficiency_scatter
    from dlapp.ui.text import escape_markdown

    st.markdown("**Every classifier you have trained so far**")
    if st.button("Measure size and speed of the runs so far", key="learn_measure"):
        with st.spinner("Loading each model and timing 20 predictions…"):
            st.session_state["learn_efficiency"] = measure_runs(store)
    points = st.session_state.get("learn_efficiency")
    if points is None:
        return
    if points:
        st.plotly_chart(efficiency_scatter(points), config=CHARTS)
    st.markdown(escape_markdown(observe_efficiency(points)))


def render_handwriting(store: RunStore) -> None:
    """Lesson 11's numbers: the person's own fine-tunes, read from the store (or what to do first)."""
    from dlapp.finetune import finetune_summaries
    from dlapp.lesson_observations import observe_handwriting
    from dlapp.ui import owner
    from dlapp.ui.text import escape_markdown

    text = escape_markdown(observe_handwriting(finetune_summaries(store, owner.mine(store, "run"))))
    st.success(f"**What your drawings showed.** {text}", icon=":material/draw:")
    st.page_link("pages/draw.py", label="Draw, save and teach on the Draw page", icon=":material/arrow_forward:")


def lesson_settings_preview(lesson: Lesson) -> str:
    """'7 runs of 5 epochs each' - what the button will start."""
    planned = lesson_configs(lesson)
    epochs = {config.train.epochs for _, config in planned}
    each = f"{max(epochs)} epochs" if len(epochs) == 1 else f"up to {max(epochs)} epochs"
    if len(planned) == 1:
        return f"one run of {each.removeprefix('up to ')}"
    return f"{len(planned)} runs of {each} each, overlaid on one chart"
