"""The Experiments page's form: a grid or a search on top of the base settings, checked as it is typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dlapp.config import ARCH_FIELDS, RunConfig, all_fields
from dlapp.errors import DlappError
from dlapp.experiment_plan import MAX_GRID_SETTINGS, MAX_RUNS, check_applies, parse_dimension, parse_grid, plan_grid
from dlapp.ui import owner
from dlapp.ui.common import field_label, friendly_errors, keras_ready
from dlapp.ui.continuation import use_settings

if TYPE_CHECKING:
    from dlapp.store import RunStore

SEARCH_ROWS = 3
NONE = ""  # the "no setting" choice of a row
OPEN_IN_TRAIN = "open_in_train"  # set by the leaderboard's button; the page then switches to Train
EXAMPLES = {  # placeholders: a grid's values, then a search's range
    "optimizer": ("sgd, adam, rmsprop", "adam, sgd"),
    "learning_rate": ("0.0001, 0.001, 0.01", "1e-4:1e-2:log"),
    "dropout": ("0, 0.2, 0.5", "0:0.6"),
    "activation": ("relu, tanh", "relu, tanh, gelu"),
    "hidden_units": ("64, 256, 128-64", "32:512"),
    "batch_size": ("32, 128", "16:256:log"),
}


def variable_settings(base: RunConfig) -> list[str]:
    """Settings worth varying on top of `base`: the ones its architecture and optimizer read."""
    names = []
    for name in all_fields():
        if name in ("arch", "epochs", "dataset"):
            continue  # epochs and data stay fixed so runs compare fairly; change them in the base settings
        try:
            check_applies(name, base)
        except ValueError:
            continue
        names.append(name)
    model_first = [n for n in names if n in ARCH_FIELDS[base.model.arch]]
    return model_first + [n for n in names if n not in model_first]


def _setting_rows(kind: str, base: RunConfig, count: int) -> list[str]:
    """`count` rows of (setting, values) widgets; returns the rows filled in, as 'name=values' text."""
    options = [NONE, *variable_settings(base)]
    filled = []
    for i in range(count):
        name_col, values_col = st.columns([2, 3])
        name = name_col.selectbox(
            f"Setting {i + 1}",
            options,
            key=f"exp_{kind}_name_{i}",
            format_func=lambda n: "(none)" if n == NONE else field_label(n),
        )
        example = EXAMPLES.get(name, ("a, b", "LOW:HIGH"))[0 if kind == "grid" else 1]
        values = values_col.text_input(
            "Values" if kind == "grid" else "Range or choices",
            key=f"exp_{kind}_values_{i}",
            placeholder=f"e.g. {example}" if name else "",
            disabled=name == NONE,
        )
        if name != NONE:
            filled.append(f"{name}={values}")
    return filled


def render_new_experiment(store: RunStore, base: RunConfig | None, base_error: str | None) -> None:
    """Name, grid or search, the rows, the budget and Start; Start stays disabled with the reason."""
    name = st.text_input("Experiment name (optional)", key="exp_name", max_chars=80, placeholder="e.g. which optimizer")
    kind = st.segmented_control(
        "Kind", ["Grid", "Search"], default="Grid", key="exp_kind", help=_KIND_HELP, width="stretch"
    )
    kind = (kind or "Grid").lower()
    if base is None:
        st.info("Fix the highlighted base setting first.", icon=":material/edit:")
        _start_button(None, base_error or "Fix the base settings first.")
        return
    if kind == "grid":
        st.caption(f"Every combination is one run (at most {MAX_RUNS}). Separate values with commas.")
        rows = _setting_rows("grid", base, MAX_GRID_SETTINGS)
        start, reason = _grid_start(store, base, rows, name)
    else:
        st.caption("Optuna picks each trial's values; hopeless trials are pruned after an epoch.")
        rows = _setting_rows("search", base, SEARCH_ROWS)
        trials_col, minutes_col = st.columns(2)
        trials = trials_col.number_input("Trials", 1, MAX_RUNS, 10, key="exp_trials")
        minutes = minutes_col.number_input("Minutes (0 = no limit)", 0.0, 600.0, 0.0, 1.0, key="exp_minutes")
        start, reason = _search_start(store, base, rows, name, int(trials), float(minutes))
    reason = reason or _name_problem(name)
    if reason and rows:
        st.error(reason, icon=":material/edit:")
    elif reason:
        st.caption(reason)  # nothing typed yet: a hint, not an error
    _start_button(None if reason else start, reason)


_KIND_HELP = (
    "Grid: you list the values, every combination trains. "
    "Search: you give ranges, and Optuna's sampler chooses values from what earlier trials scored."
)


def _grid_start(store: RunStore, base: RunConfig, rows: list[str], name: str):
    if not rows:
        return None, "Pick a setting to vary and type its values."
    try:
        planned = plan_grid(base, parse_grid(rows))
    except ValueError as exc:
        return None, str(exc)
    st.caption(f"{len(planned)} runs of {base.train.epochs} epoch(s) each.")
    if refusal := owner.experiment_refusal(store, [run.config for run in planned]):  # shared mode's quotas
        return None, refusal

    def start():
        from dlapp import experiments

        return experiments.start_grid(base, parse_grid(rows), store, name=name, owner=owner.current_owner())

    return start, None


def _search_start(store: RunStore, base: RunConfig, rows: list[str], name: str, trials: int, minutes: float):
    if not rows:
        return None, "Pick a setting to search and type its range, like 1e-4:1e-2:log, or choices, like relu, tanh."
    from dlapp.experiment_plan import check_space

    try:
        space = [parse_dimension(row) for row in rows]
        check_space(base, space, trials, minutes or None)
    except ValueError as exc:
        return None, str(exc)
    if refusal := owner.experiment_refusal(store, [base]):  # shared mode: a search trains one trial at a time
        return None, refusal

    def start():
        from dlapp import experiments

        by = owner.current_owner()
        return experiments.start_search(base, space, store, trials=trials, minutes=minutes or None, name=name, owner=by)

    return start, None


def _name_problem(name: str) -> str | None:
    from dlapp.names import clean_optional_name

    try:
        clean_optional_name(name, "experiment name")
    except (DlappError, ValueError) as exc:
        return str(exc)
    return None


def _start_button(start, reason: str | None) -> None:
    def on_click() -> None:
        with friendly_errors():
            keras_ready()
            runner = start()
            st.session_state.experiment_id = runner.experiment_id
            st.session_state.exp_pick = runner.experiment_id  # the view below shows it

    st.button(
        "Start experiment",
        type="primary",
        icon=":material/play_arrow:",
        disabled=start is None,
        help=reason or "Queue the runs; they keep training if you switch pages.",
        on_click=on_click,
        key="exp_start",
    )


def open_in_train(config: RunConfig) -> None:
    """Put a run's settings into the Train page's settings (a button callback), then ask for the switch."""
    use_settings(config)  # the one way settings are filled from a config ("Again with these settings" too)
    st.session_state[OPEN_IN_TRAIN] = True


def follow_open_in_train() -> None:
    """At the top of the page: after "Open in Train", go there (a callback cannot switch pages)."""
    if st.session_state.pop(OPEN_IN_TRAIN, False):
        st.switch_page("pages/train.py")
