"""The Train page's settings widgets, built from the config's own bounds, and the model summary."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dlapp.config import ARCH_FIELDS, ConfigError, RunConfig, all_fields, describe_range
from dlapp.data import DATASETS
from dlapp.precision import precision_caption
from dlapp.ui.common import ARCH_TITLES, field_label, friendly_errors, keras_ready
from dlapp.ui.text import escape_markdown

TRAIN_FIELDS = (
    "optimizer",
    "learning_rate",
    "lr_schedule",
    "batch_size",
    "epochs",
    "early_stopping",
    "seed",
    "precision",
)
DATA_FIELDS = ("validation_split", "train_subset", "pen_digits")
AUGMENT_FIELDS = (
    "augment_shift",
    "augment_rotation",
    "augment_zoom",
    "augment_thickness",
    "augment_elastic",
    "augment_top_bottom",
)
KEY = "cfg_"  # session-state prefix of the settings widgets
# The person's settings, kept for the whole session: Streamlit forgets a widget's value when a rerun
# does not draw it (another page, another architecture), so every value is copied here as well.
SAVED = "saved_settings"


def _default(name: str) -> Any:
    value = RunConfig().flat()[name]
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


def render_field(name: str, *, disabled: bool = False) -> None:
    """One settings widget built from the field's metadata (choices, bounds, help)."""
    meta = all_fields()[name].metadata
    key = KEY + name
    default = _default(name)
    if key not in st.session_state:  # first draw, or back from another page: what the person last set
        st.session_state[key] = _saved().get(name, default)
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
        # No min_value/max_value: with them the browser silently clamps a typed 0 to the last valid
        # value, so the person never learns why. validate() judges the value and says so instead.
        st.number_input(
            label,
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
    if arch != "autoencoder":  # label smoothing softens a classifier's targets; the autoencoder has none
        train.insert(train.index("lr_schedule") + 1, "label_smoothing")
    sections = {"Model": ARCH_FIELDS[arch]}
    if arch != "autoencoder":
        sections["Augmentation"] = ("augment", *(AUGMENT_FIELDS if augment else ()))
    return {**sections, "Training": tuple(train), "Data": DATA_FIELDS}


def _saved() -> dict[str, Any]:
    return st.session_state.setdefault(SAVED, {})


def remember_settings() -> dict[str, Any]:
    """Copy the settings widgets' current values into the session's saved settings, and return them."""
    saved = _saved()
    for name in all_fields():
        if KEY + name in st.session_state:
            saved[name] = st.session_state[KEY + name]
    return saved


def _as_typed(value: Any) -> str:
    """A value as the person typed it: 50, not 50.0; 128,,64 as written."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    return str(value)


def config_from_state(names: tuple[str, ...]) -> tuple[RunConfig | None, str | None, str | None]:
    """The RunConfig the named settings describe (defaults elsewhere), or (None, sentence, bad field).

    The sentence names the setting by its label and quotes what was typed, in this rerun.
    """
    saved = remember_settings()
    values = {name: saved.get(name, _default(name)) for name in names}
    try:
        config = RunConfig.from_flat(**values).validate()
    except ConfigError as exc:
        return None, exc.worded(field_label(exc.field), "you typed", _as_typed(exc.value)), exc.field
    except ValueError as exc:
        return None, str(exc), None
    return config, None, None


def _sections() -> dict[str, tuple[str, ...]]:
    saved = remember_settings()  # widgets already hold this rerun's values
    return visible_fields(saved.get("arch", "mlp"), saved.get("optimizer", "adam"), saved.get("augment", False))


def current_config() -> RunConfig | None:
    """The settings as they are now (in a callback too: a value typed just before a click counts)."""
    shown = ("arch", "dataset", *(n for names in _sections().values() for n in names))
    return config_from_state(shown)[0]


def render_settings() -> tuple[RunConfig | None, str | None]:
    """All run settings for the chosen architecture; a bad value's sentence appears under its widget."""
    sections = _sections()
    shown = ("arch", "dataset", *(n for names in sections.values() for n in names))
    config, error, bad_field = config_from_state(shown)
    for name in ("arch", "dataset"):
        render_field(name)
        _render_error(error, bad_field, (name,))
    for title, names in sections.items():
        with st.expander(title, expanded=title not in ("Data", "Augmentation") or bad_field in names):
            _render_section(names, error, bad_field)
    if error and bad_field not in shown:
        st.error(escape_markdown(error), icon=":material/edit:")
    return config, error


def _render_section(names: tuple[str, ...], error: str | None, bad_field: str | None) -> None:
    """Switches get a full row (their labels are long); the other widgets go two to a row."""
    grid = [n for n in names if not isinstance(_default(n), bool)]
    if names[0] not in grid:  # a section led by its on/off switch shows the switch first
        render_field(names[0])
        _render_error(error, bad_field, names[:1])
    for start in range(0, len(grid), 2):
        row = grid[start : start + 2]
        for column, name in zip(st.columns(2), row, strict=False):
            with column:
                render_field(name)
                if name == "precision":  # what auto picks here, or why a hand-picked one will be slow
                    st.caption(precision_caption(st.session_state[KEY + name]))
        _render_error(error, bad_field, row)  # under the row, across both columns: room for the sentence
    for name in names[1:]:
        if name not in grid:
            render_field(name)
            _render_error(error, bad_field, (name,))


def _render_error(error: str | None, bad_field: str | None, names) -> None:
    if error and bad_field in names:
        st.error(escape_markdown(error), icon=":material/edit:")


@st.cache_data(show_spinner="Building the model…", max_entries=32)
def model_summary(config_json: str) -> tuple[list[dict], int]:
    """Layer rows and parameter count of a config's model, cached by its JSON."""
    keras_ready()
    from dlapp.models import build_model, layer_table

    model = build_model(RunConfig.from_json(config_json).model)
    return layer_table(model), int(model.count_params())


def render_model_summary(config: RunConfig | None) -> None:
    """The model's layers and parameter count; a hint instead while a setting is wrong."""
    if config is None:
        st.info("Fix the highlighted setting to see the model.", icon=":material/edit:")
        return
    with friendly_errors():
        _render_layers(config)


def _render_layers(config: RunConfig) -> None:
    rows, total = model_summary(config.to_json())
    st.markdown(f"**{ARCH_TITLES[config.model.arch]}** · {total:,} parameters · {len(rows)} layers")
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 320),
        column_config={"parameters": st.column_config.NumberColumn(format="localized")},  # 1,180,160, not 1180160
    )
