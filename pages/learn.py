"""Learn: the tutorial's ideas, one lesson at a time, each with an experiment you run and read."""

import streamlit as st

from dlapp import ui

ui.page_setup("Learn")
store = ui.get_store()
st.caption(
    "Each lesson explains one idea from the tutorial, then runs an experiment that shows it on real digits. "
    "What the runs showed is read from their own numbers."
)
lesson = ui.pick_lesson()
text_col, run_col = st.columns([3, 2], gap="large")
with text_col:
    ui.render_lesson_text(lesson)
with ui.friendly_errors():
    experiment = ui.lesson_experiment(store, lesson)
    running = experiment is not None and experiment.active
    with run_col:
        st.markdown(f"**The experiment:** {ui.lesson_settings_preview(lesson)}.")
        ui.render_start(store, lesson, running)
        st.info(f"**What to look for.** {lesson.look_for}", icon=":material/visibility:")
    if lesson.extra == "handwriting":  # the person's own fine-tunes, whether or not the lesson's run exists
        with text_col:
            ui.render_handwriting(store)
    if experiment is not None:
        st.divider()
        ui.render_progress(store, lesson, experiment.id)
