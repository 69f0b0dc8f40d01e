"""Train page presets: a lesson's network in one click, filled into the settings widgets."""

from __future__ import annotations

import streamlit as st

from dlapp.lessons import preset_configs
from dlapp.ui.continuation import use_settings

PRESET_KEY = "train_preset"


def render_presets() -> None:
    """A picker whose choice fills every setting at once (then goes back to its placeholder)."""
    presets = preset_configs()
    st.selectbox(
        "Start from",
        list(presets),
        index=None,
        key=PRESET_KEY,
        placeholder="a lesson's network…",
        on_change=_fill,
        help="Fills in every setting below with a network from the Learn page; change any of them afterwards.",
    )


def _fill() -> None:
    name = st.session_state.get(PRESET_KEY)
    if name is not None:
        use_settings(preset_configs()[name])
        st.session_state[PRESET_KEY] = None
        st.toast(f"Settings filled in: {name}.")
