"""Runs: every training run, compared, renamed, deleted, downloaded; and models imported from a file."""

import streamlit as st

from dlapp import ui

ui.page_setup("Runs")
store = ui.get_store()
store.refresh()  # runs whose process died since the server started show as interrupted
runs = store.runs()

if not runs:
    st.info(
        "No runs yet: train a model on the Train page, or import a .keras file below.", icon=":material/folder_open:"
    )
else:
    st.caption("Select rows to overlay their training curves.")
    chosen = ui.render_runs_table(runs)
    ui.render_overlay(store, chosen)

    st.subheader("One run")
    run = ui.pick_run(chosen or runs, "Run", key="manage_run")
    if run is not None:
        rename_col, files_col = st.columns(2, gap="large")
        with rename_col:
            ui.render_rename(store, run)
            ui.render_delete(store, run)
        with files_col:
            ui.render_downloads(run)
        ui.render_continuation(store, run, go_to_train=True)
        ui.render_layer_history(store.epochs(run.id), key=f"runs_{run.id}")

st.subheader("Import a model")
upload = st.file_uploader(
    "A .keras model file (28×28 digits in; 10 class scores or a 28×28 image out)",
    type=["keras"],
    help="Loaded with Keras safe_mode; files with Python code (Lambda layers) are refused.",
)
if upload is not None:
    with ui.friendly_errors():
        run_id = ui.import_model(store, upload.name, upload.getvalue())
        st.success(f"Imported as run #{run_id}; it is now available on the Evaluate and Draw pages.")

if runs:
    st.subheader("Export")
    ui.render_runs_csv(store, runs)

st.caption(f"TensorBoard: `tensorboard --logdir {store.data_dir / 'tensorboard'}`")
