"""dlapp: the entry point (`streamlit run app.py`). Home page and navigation only.

The home page must be interactive within a few seconds, so nothing here imports
TensorFlow: the run store, the dataset registry and dlapp.ui are all Keras-free.
"""

import streamlit as st

from dlapp import ui

# An emoji icon is drawn by the browser itself; a :material/...: one is fetched from a font server, offline too.
st.set_page_config(page_title="dlapp", page_icon="🧠", layout="wide")


def home() -> None:
    st.title("dlapp", anchor=False)
    st.markdown(
        "Build a neural network (MLP, CNN, RNN, autoencoder or small ResNet), watch it learn on real digits, "
        "look inside the result, and draw your own digit to see what it thinks.  \n"
        "Everything trains here on this machine with Keras; runs are kept so you can compare them later."
    )
    with ui.friendly_errors():
        store = ui.get_store()
        left, right = st.columns([2, 3], gap="large")
        with left:
            st.subheader("Start here")
            for page, what in (
                (PAGES["learn"], "the tutorial's ideas, each as an experiment"),
                (PAGES["data"], "see the digits"),
                (PAGES["train"], "build and train a model"),
                (PAGES["evaluate"], "where it goes wrong"),
                (PAGES["draw"], "test it on your own digit"),
                (PAGES["runs"], "compare and download"),
                (PAGES["experiments"], "compare settings side by side"),
            ):
                st.page_link(page, label=f"{page.title}: {what}", icon=page.icon)
            st.subheader("Data")
            ui.render_data_availability()
        with right:
            st.subheader("Latest runs")
            runs = store.runs()[:6]
            if not runs:
                st.info("No runs yet: train your first model on the Train page.", icon=":material/waving_hand:")
            for run in runs:
                icon = ui.STATUS_ICONS.get(run.status, "")
                st.markdown(
                    f"{icon} **#{run.id}** {ui.escape_markdown(run.name)} · {run.arch} on {run.dataset} · "
                    f"{ui.run_status(run)} · {ui.headline_metric(run)} · {run.created[:16].replace('T', ' ')}"
                )
            st.caption(f"Runs are stored in `{store.data_dir}`.")


PAGES = {
    "home": st.Page(home, title="Home", icon=":material/home:", default=True),
    "learn": st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
    "data": st.Page("pages/data.py", title="Data", icon=":material/grid_view:"),
    "train": st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    "evaluate": st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    "draw": st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
    "runs": st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
    "experiments": st.Page("pages/experiments.py", title="Experiments", icon=":material/science:"),
}

st.navigation(list(PAGES.values())).run()
