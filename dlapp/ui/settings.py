"""The Train page's settings widgets, built from the config's own bounds, and the model summary."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dlapp.config import ARCH_FIELDS, RunConfig, all_fields, describe_range
from dlapp.data import DATASETS
from dlapp.precision import precision_caption
from dlapp.ui.common import ARCH_TITLES, field_label, keras_ready
from dlapp.ui.text import escape_markdown

TRAIN_FIELDS = ("optimizer", "learning_rate", "batch_size", "epochs", "early_stopping", "seed", "precision")
DATA_FIELDS = ("validation_split", "train_subset")
AUGMENT_FIELDS = ("augment_shift", "augment_rotation", "augment_zoom")
KEY = "cfg_"  # session-state prefix of the settings widgets


def _default(name: str) -> Any:
    value = RunConfig().flat()[name]
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


def render_field(name: str, *, disabled: bool = False) -> None:
    """One settings widget built from the field's metadata (choices, bounds, help)."""
    meta = all_fields()[name].metadata
    key = KEY + name
    default = _default(name)
    if key not in st.session_state:
        st.session_state[key] = default
    label, help_text = field_label(name), meta["help"]
    if "choices" in meta:
        titles = {"arch": ARCH_TITLES, "dataset": {n: i.title for n, i in DATASETS.items()}}.get(name, {})
        st.selectbox(
            label, meta["choices"], key=key, help=help_text, disabled=disabled, format_func=lambda c: titles.get(c, c)
        )
    elif isinstance(default, bool):
        st.toggle(label, key=key, help=help_text, disabled=disabled)
    elif isinstance(default, str):  # an int list typed as "128, 64"
        st.text_input(label, key=key, help=f"{help_text} Comma-separated, like 128, 64.", disabled=disabled)
    else:
        kind = type(default)
        bounds = f" Allowed: {describe_range(meta)}."
        step = {"learning_rate": 1e-4, "weight_decay": 1e-5, "l2": 1e-4}.get(name, 0.05 if kind is float else 1)
        st.number_input(
            label,
            min_value=kind(meta["low"]),
            max_value=kind(meta["high"]),
            step=kind(step),
            format="%g" if kind is float else "%d",
            key=key,
            help=help_text + bounds,
            disabled=disabled,
        )


def visible_fields(arch: str, optimizer: str, augment: bool) -> dict[str, tuple[str, ...]]:
    """Settings sections for one architecture; optimizer-specific fields only where they apply."""
    train = list(TRAIN_FIELDS)
    if optimizer == "sgd":
        train.insert(2, "momentum")
    if optimizer == "adamw":
        train.insert(2, "weight_decay")
    sections = {"Model": ARCH_FIELDS[arch]}
    if arch != "autoencoder":
        sections["Augmentation"] = ("augment", *(AUGMENT_FIELDS if augment else ()))
    return {**sections, "Training": tuple(train), "Data": DATA_FIELDS}


def config_from_state(names: tuple[str, ...]) -> tuple[RunConfig | None, str | None, str | None]:
    """The RunConfig the named settings widgets describe (defaults elsewhere), or (None, sentence, bad field)."""
    values = {name: st.session_state.get(KEY + name, _default(name)) for name in names}
    try:
        config = RunConfig.from_flat(**values).validate()
    except ValueError as exc:
        message = str(exc)
        first = message.split(" ", 1)[0].strip(",.:")
        return None, message, first if first in all_fields() else None
    return config, None, None


def render_settings() -> tuple[RunConfig | None, str | None]:
    """All run settings for the chosen architecture; a bad value's sentence appears under its widget."""
    for key in [k for k in st.session_state if str(k).startswith(KEY)]:
        st.session_state[key] = st.session_state[key]  # keep hidden settings when the architecture changes
    state = st.session_state
    arch = state.get(KEY + "arch", "mlp")
    sections = visible_fields(arch, state.get(KEY + "optimizer", "adam"), state.get(KEY + "augment", False))
    shown = ("arch", "dataset", *(n for names in sections.values() for n in names))
    config, error, bad_field = config_from_state(shown)  # widgets already hold this rerun's values
    render_field("arch")
    render_field("dataset")
    for title, names in sections.items():
        with st.expander(title, expanded=title not in ("Data", "Augmentation")):
            # Switches get a full row (their labels are long); the other widgets share two columns.
            grid = [n for n in names if not isinstance(_default(n), bool)]
            if names[0] not in grid:  # a section led by its on/off switch shows the switch first
                render_field(names[0])
            left, right = st.columns(2)
            for i, name in enumerate(grid):
                with left if i % 2 == 0 else right:
                    render_field(name)
                    if name == "precision":  # what auto picks here, or why a hand-picked one will be slow
                        st.caption(precision_caption(st.session_state[KEY + name]))
                    if name == bad_field:
                        st.error(escape_markdown(error), icon=":material/edit:")
            for name in names[1:]:
                if name not in grid:
                    render_field(name)
    if error and bad_field not in shown:
        st.error(escape_markdown(error), icon=":material/edit:")
    return config, error


@st.cache_data(show_spinner="Building the model…", max_entries=32)
def model_summary(config_json: str) -> tuple[list[dict], int]:
    """Layer rows and parameter count of a config's model, cached by its JSON."""
    keras_ready()
    from dlapp.models import build_model, layer_table

    model = build_model(RunConfig.from_json(config_json).model)
    return layer_table(model), int(model.count_params())


def render_model_summary(config: RunConfig) -> None:
    rows, total = model_summary(config.to_json())
    st.markdown(f"**{ARCH_TITLES[config.model.arch]}** · {total:,} parameters · {len(rows)} layers")
    st.dataframe(rows, hide_index=True, width="stretch", height=min(38 + 35 * len(rows), 320))
