"""Learn: the tutorial's ideas, one lesson at a time, each with an experiment you run and read."""

import streamlit as st

from dlapp import ui
from dlapp.ui.learn import lesson_experiment, pick_lesson, render_lesson_text, render_progress, render_start
from dlapp.ui.learn_views import lesson_settings_preview

ui.page_setup("Learn")
store = ui.get_store()
st.caption(
    "Each lesson explains one idea from the tutorial, then runs an experiment that shows it on real digits. "
    "What the runs showed is read from their own numbers."
)
lesson = pick_lesson()
text_col, run_col = st.columns([3, 2], gap="large")
with text_col:
    render_lesson_text(lesson)
with ui.friendly_errors():
    experiment = lesson_experiment(store, lesson)
    running = experiment is not None and experiment.active
    with run_col:
        st.markdown(f"**The experiment:** {lesson_settings_preview(lesson)}.")
        render_start(store, lesson, running)
        st.info(f"**What to look for.** {lesson.look_for}", icon=":material/visibility:")
    if experiment is not None:
        st.divider()
        render_progress(store, lesson, experiment.id)
