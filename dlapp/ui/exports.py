"""CSV downloads of the Runs page: the table as shown, and every epoch of every run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dlapp.experiment_report import epoch_rows, to_csv

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore


def render_runs_csv(store: RunStore, runs: list[Run]) -> None:
    """Two download buttons; the files are made on click, so a rerun of the page stays cheap."""
    from dlapp.ui.runs import runs_table

    table_col, epochs_col = st.columns(2)
    table_col.download_button(
        "Runs table (.csv)",
        data=lambda: to_csv(runs_table(runs)),
        file_name="dlapp-runs.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="runs_csv_table",
    )
    epochs_col.download_button(
        "Every epoch of every run (.csv)",
        data=lambda: to_csv(epoch_rows(store, runs)),
        file_name="dlapp-runs-epochs.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="runs_csv_epochs",
    )
