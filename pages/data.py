"""Data: look at a dataset before training on it."""

import numpy as np
import streamlit as st

from dlapp import plots, ui
from dlapp.config import DataConfig
from dlapp.data import DATASETS, is_cached
from dlapp.errors import DatasetUnavailable

ui.page_setup("Data")
st.caption("What the network will learn from: 28×28 grey images, ten classes.")

if "data_choice" not in st.session_state:
    st.session_state.data_choice = "mnist-sample"


def use_sample() -> None:
    st.session_state.data_choice = "mnist-sample"


choose_col, about_col = st.columns([1, 2], vertical_alignment="bottom")
name = choose_col.selectbox("Dataset", list(DATASETS), format_func=ui.dataset_title, key="data_choice")
info = DATASETS[name]
needs_download = name != "mnist-sample" and not is_cached(name)
about_col.markdown(info.description + (" The first use downloads it (about 11-30 MB)." if needs_download else ""))

try:
    with st.spinner("Downloading…" if needs_download else "Loading…"):
        raw = ui.load_dataset(name)
except DatasetUnavailable as exc:
    st.error(ui.escape_markdown(exc), icon=":material/wifi_off:")
    st.button("Use the offline MNIST sample", on_click=use_sample, type="primary")
    st.stop()

split = DataConfig().validation_split
n_val = int(round(len(raw.y_train) * split))
cells = st.columns(4)
cells[0].metric("Training images", f"{len(raw.y_train):,}")
cells[1].metric("Test images", f"{len(raw.y_test):,}")
cells[2].metric("Classes", len(raw.class_names))
cells[3].metric("Image size", "28 × 28")
st.caption(
    f"While training, a validation share is held out of the training images each epoch "
    f"({split:.0%} by default, {n_val:,} images here); the test images are only used after training."
)

grid_col, dist_col = st.columns([3, 2], gap="large")
with grid_col:
    count_col, seed_col = st.columns(2)
    per_class = count_col.slider("Examples per class", 4, 16, 10)
    seed = seed_col.number_input("Shuffle seed", 0, 10_000, 0, help="Change it to see other examples.")
    order = np.random.default_rng(int(seed)).permutation(len(raw.y_train))
    st.plotly_chart(
        plots.samples_per_class(raw.x_train[order], raw.y_train[order], raw.class_names, per_class),
        config={"displayModeBar": False},
    )
with dist_col:
    st.plotly_chart(
        plots.class_distribution(raw.y_train, raw.y_test, raw.class_names), config={"displayModeBar": False}
    )
    mean_image = raw.x_train[:5000].mean(axis=0) / 255.0
    ui.render_digit(mean_image, "The average training image: where the ink usually is.", factor=6)
