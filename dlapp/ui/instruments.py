"""Views of the instruments: gradient norms and weight histograms per epoch, the forward pass of a
drawing, and what a model's first layer looks for. Layer names can come from an imported model:
they reach Markdown only through `escape_markdown`, and Plotly figures escape them themselves.
"""

from __future__ import annotations

import streamlit as st

from dlapp import activation_images, instrument_plots
from dlapp.ui.text import escape_markdown

CHART_CONFIG = {"displayModeBar": False}
NO_LAYER_STATS = "This run has no per-layer statistics: it was trained before dlapp recorded them."
VANISHING_AT = 100  # output-side gradient this many times the input side's: the caption calls it vanishing

# What each kind of layer does, one line each, shown under its picture in the forward pass.
LAYER_NOTES = {
    "InputLayer": "Your drawing as the model gets it: 28×28 pixels from 0 (black) to 1 (white).",
    "Deskew": "Your drawing stood upright: each row shifted sideways so the digit no longer leans.",
    "Conv2D": "Each map is one filter slid over its input: bright where the filter finds its pattern.",
    "MaxPooling2D": "Keeps the largest value of each 2×2 patch: half the width and height, the strong responses kept.",
    "AveragePooling2D": "Averages each 2×2 patch: half the width and height.",
    "BatchNormalization": "Rescales each channel to a steady range with statistics learned in training.",
    "Activation": "Applies the activation to every value, e.g. ReLU(x) = max(0, x).",
    "Add": "The shortcut: adds the block's input to its output, so the signal (and the gradient) can skip it.",
    "GlobalAveragePooling2D": "Averages each channel's whole map to one number.",
    "Flatten": "Lays everything out as one row of numbers for the dense layers.",
    "Dense": "Each unit adds up all its inputs times its weights, plus a bias, then applies its activation.",
    "Dropout": "Passes values through unchanged when predicting; it only switches units off during training.",
    "Reshape": "The same numbers arranged as a 28×28 image.",
}
FORWARD_PASS_KEY = "forward_pass_open"
# No picture: the same as before (these change digits while training only).
IDENTITY_KINDS = (
    "Dropout",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
    "StrokeThickness",
    "ElasticDistortion",
    "TopBottom",
)


def render_gradient_chart(epochs: list[dict], total_epochs: int | None, key: str) -> None:
    """Each layer's gradient norm per epoch (log scale), with one line saying what it shows."""
    if not instrument_plots.has_layer_stats(epochs):
        st.caption(NO_LAYER_STATS if epochs else "Each layer's gradient norm appears here after the first epoch.")
        return
    figure = instrument_plots.gradient_norm_chart(epochs, total_epochs)
    st.plotly_chart(figure, key=f"{key}_gradients", config=CHART_CONFIG)
    st.caption(gradient_caption(instrument_plots.gradient_spread(epochs)))


def gradient_caption(spread: float | None) -> str:
    if spread is not None and spread >= VANISHING_AT:
        return (
            f"The input layer's gradient is {spread:,.0f}× smaller than the output layer's: "
            "the first layers barely learn (a vanishing gradient). Batch normalisation or ReLU helps."
        )
    return "How much the loss would change per step of each layer's weights, input layer darkest."


def render_layer_history(epochs: list[dict], key: str) -> None:
    """A finished run: the gradient chart, the last epoch's gradient by layer, and weight histograms."""
    if not instrument_plots.has_layer_stats(epochs):
        st.caption(NO_LAYER_STATS)
        return
    render_gradient_chart(epochs, len(epochs), key)
    st.plotly_chart(instrument_plots.gradient_profile(epochs), key=f"{key}_profile", config=CHART_CONFIG)
    names = instrument_plots.layer_order(epochs)
    default = list(dict.fromkeys([names[0], names[-1]]))
    shown = st.multiselect("Weight histograms of", names, default=default, key=f"{key}_hist_layers")
    st.caption("Darker: more weights with that value. Spreading out means the layer is learning.")
    for column, name in zip(st.columns(2) * len(shown), shown, strict=False):
        with column:
            figure = instrument_plots.weight_histogram_heatmap(epochs, name)
            st.plotly_chart(figure, key=f"{key}_hist_{name}", config=CHART_CONFIG)


def render_forward_pass(model, image) -> None:
    """The forward pass of your drawing: every layer's output, in an expander folded until opened.

    Worked out only while it is open (a rerun on opening): folded, a stroke does not wait for a dozen pictures.
    """
    expander = st.expander(
        "The forward pass of your drawing", icon=":material/layers:", key=FORWARD_PASS_KEY, on_change="rerun"
    )
    with expander:
        if not expander.open:
            st.caption("Open this to see what each layer makes of your drawing.")
            return
        from dlapp.activations import forward_pass

        passed = forward_pass(model, image)
        st.caption("Your drawing flows from the top layer to the bottom one; each picture is what a layer outputs.")
        if passed.note:
            st.caption(passed.note)
        every_channel = st.toggle("Show every channel of the conv layers", key="forward_pass_all_channels")
        channels = 10_000 if every_channel else activation_images.FEATURE_MAPS_SHOWN
        for index, layer in enumerate(passed.layers):
            _render_layer(layer, channels, key=f"forward_{index}")


def _render_layer(layer, channels: int, key: str) -> None:
    role = {"latent code": " (the latent code)", "output": " (the output)"}.get(layer.role, "")
    title = activation_images.title_of(layer.name, layer.kind, layer.shape)
    st.markdown(f"**{escape_markdown(title)}**{role}")
    note = LAYER_NOTES.get(layer.kind.split("(")[0], "")
    if layer.kind in IDENTITY_KINDS:
        st.caption(note or "Does nothing when predicting; it only changes images during training.")
        return
    if layer.steps is not None:
        figure = instrument_plots.hidden_state_heatmap(layer.steps, title)
        st.plotly_chart(figure, key=key, config=CHART_CONFIG)
        st.caption("The hidden state after each image row: the memory the layer carries down the digit.")
        return
    picture = activation_images.layer_picture(layer, channels)
    st.image(picture.image, clamp=True)
    st.caption(" · ".join(part for part in (note, picture.legend) if part))


def render_first_layer(run, count: int = 32) -> None:
    """What the first layer looks for: the run's strongest first-layer neurons as images, or its conv kernels."""
    from dlapp.instruments import first_layer_weights
    from dlapp.ui.common import run_model

    st.subheader("What the first layer looks for")
    first = first_layer_weights(run_model(run), count)
    if first is None:
        st.caption("This model's first layer does not read the image as a picture (an RNN reads one row at a time).")
        return
    figure = instrument_plots.first_layer_figure(first.images, first.units, first.layer, first.total)
    st.plotly_chart(figure, key="first_layer_weights", config=CHART_CONFIG)
    if first.kind == "Dense":
        st.caption(
            "Each square is one neuron's 784 weights, laid out like the image it reads. Red pixels push the neuron "
            "up when there is ink, blue ones push it down: it looks for ink on red and none on blue. "
            "Each square is scaled to its own largest weight; the strongest neurons come first."
        )
    else:
        st.caption(
            "Each square is one filter's kernel, slid over the image: it responds where the ink matches red "
            "and avoids blue (an edge or a stroke direction). Each is scaled to its own largest weight."
        )
