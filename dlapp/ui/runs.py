"""The Runs page: the table, rename, delete, downloads and model import."""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from dlapp import plots
from dlapp.config import RunConfig
from dlapp.errors import DlappError
from dlapp.names import MAX_NAME_LENGTH
from dlapp.ui import owner
from dlapp.ui.common import ACTIVE, duration, friendly_errors, keras_ready, render_saveable_chart, run_status
from dlapp.ui.text import escape_markdown

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore

RUNS_COLUMNS = {
    "test accuracy": st.column_config.NumberColumn(format="percent"),
    "test MSE": st.column_config.NumberColumn(format="%.4f"),
    "duration": st.column_config.TextColumn(),
    "yours": st.column_config.CheckboxColumn(help="Runs you started: only you (or the teacher) can change them."),
}


def settings_summary(config: RunConfig) -> str:
    m, t = config.model, config.train

    def sizes(values: tuple[int, ...]) -> str:
        return "-".join(str(v) for v in values)

    model = {
        "mlp": f"{sizes(m.hidden_units)} {m.activation}, dropout {m.dropout:g}",
        "cnn": f"filters {sizes(m.conv_filters)}, k{m.kernel_size}, dense {m.dense_units}",
        "rnn": f"{m.rnn_cell} {sizes(m.rnn_units)}" + (", bidirectional" if m.bidirectional else ""),
        "autoencoder": f"{sizes(m.encoder_units)} → latent {m.latent_dim}",
        "resnet": f"{m.resnet_stages}×{m.resnet_blocks} blocks, width {m.resnet_width}",
    }[m.arch]
    return f"{model}; {t.optimizer} lr {t.learning_rate:g}, batch {t.batch_size}, {t.epochs} ep"


def runs_table(runs: list[Run]) -> list[dict]:
    """One row per run, the columns people compare first on the left."""
    return [
        {
            "id": run.id,
            "name": run.name,
            "status": run_status(run),
            "test accuracy": (run.metrics or {}).get("test_accuracy"),
            "test MSE": (run.metrics or {}).get("test_mse"),
            "architecture": run.arch,
            "dataset": run.dataset,
            "epochs": run.epochs_completed,
            "duration": duration(run.seconds),
            "settings": settings_summary(run.config),
            "created": run.created[:16].replace("T", " "),
        }
        for run in runs
    ]


def mark_mine(rows: list[dict], mine: set[int] | None) -> list[dict]:
    """Shared mode: a 'yours' column after the name, ticked on this visitor's own runs."""
    if mine is None:
        return rows
    return [{"id": r["id"], "name": r["name"], "yours": r["id"] in mine, **r} for r in rows]


def render_runs_table(runs: list[Run], mine: set[int] | None = None) -> list[Run]:
    """The runs table with tickable rows; returns the ticked runs, newest first.

    Streamlit keeps a table's selection as row positions under its key, and keeps them when the
    rows change: a run deleted here or added by another session shifts every position after it.
    So the ticked runs are remembered by id, and the table gets a new key whenever the list of
    ids changes, starting from the remembered runs that still exist.
    """
    ids = [run.id for run in runs]
    chosen_ids = st.session_state.get("runs_chosen_ids", [])
    table = st.dataframe(
        mark_mine(runs_table(runs), mine),
        hide_index=True,
        key=f"runs_table_{zlib.crc32(repr(ids).encode())}",
        on_select="rerun",
        selection_mode="multi-row",
        selection_default={"selection": {"rows": [ids.index(i) for i in chosen_ids if i in ids]}},
        column_config=RUNS_COLUMNS,
        placeholder="–",  # an empty metric cell, not the word None
    )
    chosen = [runs[row] for row in sorted(table.selection.rows) if row < len(runs)]
    st.session_state.runs_chosen_ids = [run.id for run in chosen]
    return chosen


def render_overlay(store: RunStore, chosen: list[Run]) -> None:
    """The ticked runs' curves on one chart."""
    if not chosen:
        return
    metrics = ["loss", "accuracy"] if all(r.is_classifier for r in chosen) else ["loss"]
    metric = st.segmented_control("Curve", metrics, default="loss", key="overlay_metric") or "loss"
    curves = {f"#{r.id} {r.name}": store.epochs(r.id) for r in chosen}
    render_saveable_chart(plots.runs_overlay(curves, metric))


def render_rename(store: RunStore, run: Run) -> None:
    refusal = owner.run_refusal(store, run.id)  # shared mode: only its owner (or the teacher) renames it
    with st.form(f"rename_{run.id}", border=False):
        name = st.text_input("Name", value=run.name, max_chars=MAX_NAME_LENGTH, disabled=bool(refusal))
        pressed = st.form_submit_button(
            "Rename", disabled=bool(refusal), help=escape_markdown(refusal) if refusal else None
        )
        if pressed and not refusal:  # a disabled button's click, forged, changes nothing
            with friendly_errors():
                store.rename(run.id, name)
                st.rerun()


def render_delete(store: RunStore, run: Run) -> None:
    if refusal := owner.run_refusal(store, run.id):  # shared mode: only its owner (or the teacher) deletes it
        st.button("Delete run", icon=":material/delete:", disabled=True, help=escape_markdown(refusal))
        st.caption(escape_markdown(refusal))
        return
    active = run.status in ACTIVE
    sure = st.checkbox(
        f"Yes, delete run #{run.id} with its model file and logs",
        key=f"sure_{run.id}",
        disabled=active,
        help="Stop the run first; a training run cannot be deleted." if active else None,
    )
    reason = "Tick the box above to confirm." if not sure else None
    if st.button("Delete run", type="secondary", icon=":material/delete:", disabled=not sure or active, help=reason):
        with friendly_errors():
            store.delete(run.id)
            st.toast(f"Deleted run #{run.id}.")
            st.rerun()


def render_downloads(run: Run) -> None:
    has_model = bool(run.model_path) and os.path.exists(run.model_path)
    st.download_button(
        "Download model (.keras)",
        # A callable: the file is read when the download is asked for, not on every rerun.
        data=(lambda path=run.model_path: Path(path).read_bytes()) if has_model else b"",
        file_name=f"dlapp-run-{run.id}.keras",
        mime="application/zip",
        icon=":material/download:",
        disabled=not has_model,
        help=None if has_model else "This run has no saved model file.",
    )
    try:
        from dlapp.codegen import generate_script

        script, reason = generate_script(run.config), None
    except ImportError:
        script, reason = "", "The script generator is not installed in this version of dlapp."
    except (DlappError, ValueError) as exc:
        script, reason = "", escape_markdown(exc)  # shown as help and caption: Markdown
    st.download_button(
        "Download Keras script (.py)",
        data=script,
        file_name=f"dlapp_run_{run.id}.py",
        mime="text/x-python",
        icon=":material/code:",
        disabled=reason is not None,
        help=reason or "A standalone script that builds and trains the same model with plain Keras.",
    )
    if reason:
        st.caption(reason)


def import_model(store: RunStore, filename: str, content: bytes) -> int:
    """Keep an uploaded .keras file as a run (see dlapp.modelfile.import_model)."""
    from dlapp.modelfile import import_model

    if refusal := owner.upload_refusal(content):  # shared mode: upload size and uploads per hour
        raise DlappError(refusal)
    keras_ready()
    run_id = import_model(store, filename, content)
    owner.claim_run(store, run_id)
    return run_id
