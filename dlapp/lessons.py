"""The tutorial's lessons as data: plain words, the formula, an experiment and how to read it.

A lesson's experiment is a base configuration plus named variants, each a few flat settings
changed from the base; `lesson_configs` turns them into validated `RunConfig`s for the
experiments engine. What a learner should watch (`look_for`) is fixed text; what the runs
showed is computed by the lesson's `observe` function from the runs' own numbers
(`dlapp.lesson_observations`). No Streamlit and no TensorFlow here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlapp import lesson_observations as obs
from dlapp.config import RunConfig

# Tests and demos shrink every lesson: DLAPP_LESSON_SUBSET=300 trains on 300 images,
# DLAPP_LESSON_EPOCHS=1 caps the epochs.
SUBSET_ENV, EPOCHS_ENV = "DLAPP_LESSON_SUBSET", "DLAPP_LESSON_EPOCHS"

# The tutorial's worked example: Flatten, Dense 128 relu, Dropout 0.2, Dense 10 softmax,
# Adam, sparse categorical cross-entropy, 5 epochs.
TUTORIAL_MLP: dict[str, Any] = dict(
    arch="mlp",
    hidden_units=(128,),
    activation="relu",
    dropout=0.2,
    batch_norm=False,
    l2=0.0,
    loss="crossentropy",
    augment=False,
    optimizer="adam",
    learning_rate=0.001,
    batch_size=32,
    epochs=5,
    early_stopping=0,
)
DEEP_SIGMOID_MLP: dict[str, Any] = dict(
    TUTORIAL_MLP,
    hidden_units=(64,) * 8,
    activation="sigmoid",
    dropout=0.0,
    optimizer="sgd",
    learning_rate=0.05,
    momentum=0.9,
)


@dataclass(frozen=True)
class Variant:
    label: str  # how the run is named on the charts, like "dropout 0.5"
    settings: dict[str, Any] = field(default_factory=dict)  # flat settings changed from the lesson's base
    group: str = ""  # lesson 3 compares optimisers and then learning rates


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    explanation: str  # Markdown, a few plain sentences
    formulas: tuple[str, ...]  # LaTeX, shown with st.latex
    base: dict[str, Any]  # flat settings
    variants: tuple[Variant, ...]
    look_for: str
    observe: Callable[[list[obs.LessonRun]], str]
    extra: str = ""  # what the page shows besides the curves: code, gradients, autoencoder, saliency, efficiency
    curve: str = "val_accuracy"  # the log the overlaid chart shows first


def lesson_configs(lesson: Lesson, dataset: str = "mnist-sample") -> list[tuple[Variant, RunConfig]]:
    """Each variant's validated config on `dataset`, shrunk by the test settings when they are set."""
    quick = _quick_overrides()
    planned = []
    for variant in lesson.variants:
        flat = {**lesson.base, "dataset": dataset, **variant.settings}
        if EPOCHS_ENV in quick:
            flat["epochs"] = min(flat.get("epochs", 5), quick[EPOCHS_ENV])
        if SUBSET_ENV in quick:
            flat["train_subset"] = min(flat.get("train_subset") or quick[SUBSET_ENV], quick[SUBSET_ENV])
        planned.append((variant, RunConfig.from_flat(**flat).validate()))
    return planned


def _quick_overrides() -> dict[str, int]:
    out = {}
    for name in (SUBSET_ENV, EPOCHS_ENV):
        text = os.environ.get(name, "").strip()
        if text.isdigit() and int(text) > 0:
            out[name] = int(text)
    return out


def lesson(key: str) -> Lesson:
    for item in LESSONS:
        if item.key == key:
            return item
    raise ValueError(f"Unknown lesson {key!r}; the lessons are {', '.join(item.key for item in LESSONS)}.")


def preset_configs() -> dict[str, RunConfig]:
    """One-click starting points for the Train page, taken from the lessons."""
    return {
        "The tutorial's first network": RunConfig.from_flat(**TUTORIAL_MLP).validate(),
        "A deep sigmoid MLP (8 layers)": RunConfig.from_flat(**DEEP_SIGMOID_MLP).validate(),
    }


# --- the lessons, in the tutorial's order -----------------------------------------------------

FIRST_NETWORK = Lesson(
    key="first-network",
    title="1. Your first network",
    explanation=(
        "A neuron multiplies each input by a weight, adds them up with a bias, and passes the sum through an "
        "activation function σ. A layer is many neurons side by side: all their weights form a matrix W. "
        "This network flattens the 28×28 image into 784 numbers, passes them through 128 relu neurons, "
        "randomly silences 20% of those while training (dropout), and ends in 10 neurons whose softmax gives "
        "one probability per digit. Adam adjusts the weights to lower the cross-entropy loss, 5 passes over "
        "the data. It is the tutorial's worked example, step for step: prepare, build, train, evaluate."
    ),
    formulas=(r"y = \sigma(Wx + b)", r"\mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}"),
    base=TUTORIAL_MLP,
    variants=(Variant("the tutorial's network"),),
    look_for=(
        "Training loss should fall every epoch. Validation accuracy, measured on images the network never "
        "trains on, should climb quickly and then level off."
    ),
    observe=obs.observe_first_network,
    extra="code",
)

LOSSES = Lesson(
    key="loss-functions",
    title="2. Loss functions",
    explanation=(
        "The loss is one number that says how wrong the network is; training pushes it down. Mean squared "
        "error (MSE) compares the 10 probabilities with the one-hot target, where the right digit is 1 and the "
        "others 0. Cross-entropy looks only at the probability given to the right digit and takes its "
        "logarithm, so a confident wrong answer costs a lot and its gradient stays large. Same network, "
        "two losses: which learns faster?"
    ),
    formulas=(
        r"\mathrm{MSE} = \frac{1}{10}\sum_{k=1}^{10} (y_k - \hat y_k)^2",
        r"\mathrm{CE} = -\sum_{k=1}^{10} y_k \log \hat y_k = -\log \hat y_{\text{right digit}}",
    ),
    base=TUTORIAL_MLP,
    variants=(Variant("cross-entropy", {"loss": "crossentropy"}), Variant("MSE", {"loss": "mse"})),
    look_for=(
        "Compare the validation accuracy curves, not the losses: the two losses are on different scales. "
        "Watch especially the first epoch."
    ),
    observe=obs.observe_losses,
)

OPTIMISERS = Lesson(
    key="optimisers",
    title="3. Gradient descent and optimisers",
    explanation=(
        "Backpropagation works out, for every weight, which way the loss goes up: the gradient ∇L. Gradient "
        "descent takes a small step the other way, of size η, the learning rate. Momentum keeps part of the "
        "last step, so the weights roll through small bumps. RMSprop divides each weight's step by the "
        "recent size of its gradients; Adam does both. Then one optimiser, plain SGD, with its learning rate "
        "too small, about right and too large."
    ),
    formulas=(
        r"w \leftarrow w - \eta \nabla L",
        r"\text{momentum: } v \leftarrow \beta v + \nabla L, \quad w \leftarrow w - \eta v",
        r"\text{RMSprop: } s \leftarrow \rho s + (1-\rho)(\nabla L)^2, \quad "
        r"w \leftarrow w - \frac{\eta\, \nabla L}{\sqrt{s} + \epsilon}",
        r"\text{Adam: } m \leftarrow \beta_1 m + (1-\beta_1)\nabla L, \quad "
        r"v \leftarrow \beta_2 v + (1-\beta_2)(\nabla L)^2, \quad "
        r"w \leftarrow w - \frac{\eta\, \hat m}{\sqrt{\hat v} + \epsilon}",
    ),
    base=TUTORIAL_MLP,
    variants=(
        Variant("SGD", {"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.0}),
        Variant("SGD + momentum", {"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.9}),
        Variant("RMSprop", {"optimizer": "rmsprop", "learning_rate": 0.001}),
        Variant("Adam", {"optimizer": "adam", "learning_rate": 0.001}),
        Variant("SGD, η = 0.001", {"optimizer": "sgd", "learning_rate": 0.001, "momentum": 0.0}, "rate"),
        Variant("SGD, η = 0.1", {"optimizer": "sgd", "learning_rate": 0.1, "momentum": 0.0}, "rate"),
        Variant("SGD, η = 1.5", {"optimizer": "sgd", "learning_rate": 1.5, "momentum": 0.0}, "rate"),
    ),
    look_for=(
        "Plain SGD at η = 0.01 creeps; momentum, RMSprop and Adam go faster. With η too small the loss "
        "barely moves; too large and it jumps about instead of settling."
    ),
    observe=obs.observe_optimisers,
    curve="val_loss",
)

OVERFITTING = Lesson(
    key="overfitting",
    title="4. Overfitting and its cures",
    explanation=(
        "A big network trained on few images can learn those images by heart instead of learning digits. "
        "Then training loss keeps falling while validation loss, on images it never trains on, turns and "
        "rises: overfitting. Here a wide two-layer MLP trains on only 420 images for 20 epochs, and again "
        "with four cures. Dropout silences random neurons while training; an L2 penalty keeps the weights "
        "small; augmentation shows shifted and turned copies; early stopping stops when validation loss "
        "stops improving and keeps the best weights."
    ),
    formulas=(
        r"\text{dropout: } h_i \leftarrow \frac{m_i\, h_i}{1-p}, \quad m_i \sim \mathrm{Bernoulli}(1-p)",
        r"\text{L2: } L_{\text{total}} = L + \lambda \sum_i w_i^2",
    ),
    base=dict(TUTORIAL_MLP, hidden_units=(512, 512), dropout=0.0, train_subset=600, validation_split=0.3, epochs=20),
    variants=(
        Variant("no cure"),
        Variant("dropout 0.5", {"dropout": 0.5}),
        Variant("L2 0.001", {"l2": 0.001}),
        Variant("augmentation", {"augment": True}),
        Variant("early stopping", {"early_stopping": 3}),
    ),
    look_for=(
        "On the no-cure run, find the epoch where validation loss is lowest; after it, the gap between the "
        "training and validation curves widens. Each cure should keep that gap smaller."
    ),
    observe=obs.observe_overfitting,
    curve="val_loss",
)

VANISHING = Lesson(
    key="vanishing-gradients",
    title="5. Vanishing gradients",
    explanation=(
        "Backpropagation multiplies the gradient by each layer's slope on its way back to the input. A "
        "sigmoid's slope is at most 0.25, so after 8 sigmoid layers little is left: the first layers barely "
        "learn. Batch normalisation rescales each layer's outputs so they stay where the slope is steep. A "
        "ResNet (here with relu, as ResNets are built) adds shortcuts, y = x + F(x), so the gradient has a path "
        "that skips the layers."
    ),
    formulas=(
        r"\sigma'(z) = \sigma(z)(1-\sigma(z)) \le \tfrac14",
        r"\text{batch norm: } \hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \quad y = \gamma \hat x + \beta",
        r"\text{residual: } y = x + F(x)",
    ),
    base=DEEP_SIGMOID_MLP,
    variants=(
        Variant("8-layer sigmoid MLP"),
        Variant("with batch norm", {"batch_norm": True}),
        Variant(
            "ResNet",
            {"arch": "resnet", "activation": "relu", "resnet_stages": 2, "resnet_blocks": 2, "resnet_width": 8},
        ),
    ),
    look_for=(
        "In the gradient-norm chart, the sigmoid MLP's first layers sit far below its last ones. Batch norm "
        "and the ResNet's shortcuts keep them closer, and their accuracy climbs sooner."
    ),
    observe=obs.observe_vanishing,
    extra="gradients",
)

CONVOLUTION = Lesson(
    key="convolution",
    title="6. Convolution",
    explanation=(
        "An MLP gives every pixel its own weights, so a 7 moved one pixel looks new to it. A convolution "
        "slides one small filter, 3×3 weights, over the whole image, so a stroke is recognised wherever it "
        "is; pooling then halves the image, keeping the strongest responses. Here an MLP and a CNN with about "
        "the same number of weights (about 100,000) learn the same digits."
    ),
    formulas=(r"(I * K)_{ij} = \sum_{u,v} I_{i+u,\, j+v}\, K_{uv}",),
    base=TUTORIAL_MLP,
    variants=(
        Variant("MLP"),
        Variant("CNN", {"arch": "cnn", "conv_filters": (16, 32), "dense_units": 64, "kernel_size": 3}),
    ),
    look_for="The CNN's validation accuracy should end higher, with a similar number of weights.",
    observe=obs.observe_convolution,
    extra="feature_maps",
)

RECURRENT = Lesson(
    key="recurrent",
    title="7. Recurrent networks",
    explanation=(
        "A recurrent network reads a sequence one step at a time and carries a memory h from step to step. "
        "Here each image is read as 28 rows of 28 pixels, top to bottom. A simple RNN rewrites its memory at "
        "every row and soon forgets the top; LSTM and GRU cells have gates that decide what to keep."
    ),
    formulas=(r"h_t = \tanh(W x_t + U h_{t-1} + b)",),
    base=dict(TUTORIAL_MLP, arch="rnn", rnn_units=(64,), dropout=0.0, epochs=3),
    variants=(
        Variant("simple RNN", {"rnn_cell": "simple"}),
        Variant("LSTM", {"rnn_cell": "lstm"}),
        Variant("GRU", {"rnn_cell": "gru"}),
    ),
    look_for="The gated cells (LSTM, GRU) should reach a higher validation accuracy than the simple RNN.",
    observe=obs.observe_recurrent,
)

AUTOENCODERS = Lesson(
    key="autoencoders",
    title="8. Autoencoders",
    explanation=(
        "An autoencoder squeezes each image into a few numbers, the latent code, and learns to redraw the "
        "image from them. Nobody tells it what the numbers mean. With 2 numbers every digit becomes a point "
        "on a map, and similar digits land near each other; with 32 the redrawn digits keep more detail."
    ),
    formulas=(r"z = f(x), \quad \hat x = g(z), \quad L = \frac{1}{784}\sum_i (x_i - \hat x_i)^2",),
    base=dict(arch="autoencoder", encoder_units=(256, 64), activation="relu", epochs=5, l2=0.0),
    variants=(Variant("latent size 2", {"latent_dim": 2}), Variant("latent size 32", {"latent_dim": 32})),
    look_for="The latent-32 run's loss should end lower: more numbers, less detail lost.",
    observe=obs.observe_autoencoder,
    extra="autoencoder",
    curve="val_loss",
)

SALIENCY = Lesson(
    key="saliency",
    title="9. Why did it say that?",
    explanation=(
        "A saliency map asks: which pixels, changed a little, would change the answer most? It is the "
        "gradient of the winning probability with respect to each pixel. Train this CNN, then draw a digit on "
        "the Draw page: you see the forward pass layer by layer and which strokes the model looked at."
    ),
    formulas=(r"S_{ij} = \left| \frac{\partial\, p_{\text{digit}}}{\partial x_{ij}} \right|",),
    base=dict(TUTORIAL_MLP, arch="cnn", conv_filters=(16, 32), dense_units=64, epochs=3),
    variants=(Variant("CNN"),),
    look_for="Accuracy first; then, on the Draw page, whether the saliency map lights up your strokes.",
    observe=obs.observe_saliency,
    extra="saliency",
)

EFFICIENCY = Lesson(
    key="efficiency",
    title="10. Efficiency",
    explanation=(
        "A model has to fit on the device that runs it and answer fast enough. More weights mean a bigger "
        "file and slower predictions, and not always better answers. This lesson trains four models from "
        "small to large; the chart places every run you have trained by its size, speed and accuracy."
    ),
    formulas=(),
    base=dict(TUTORIAL_MLP, epochs=3),
    variants=(
        Variant("MLP 32", {"hidden_units": (32,)}),
        Variant("MLP 128", {"hidden_units": (128,)}),
        Variant("small CNN", {"arch": "cnn", "conv_filters": (8, 16), "dense_units": 32}),
        Variant("CNN", {"arch": "cnn", "conv_filters": (32, 64), "dense_units": 128}),
    ),
    look_for="Look for a point near the top left: few parameters, fast, and still accurate.",
    observe=obs.observe_sizes,
    extra="efficiency",
)

LESSONS: tuple[Lesson, ...] = (
    FIRST_NETWORK,
    LOSSES,
    OPTIMISERS,
    OVERFITTING,
    VANISHING,
    CONVOLUTION,
    RECURRENT,
    AUTOENCODERS,
    SALIENCY,
    EFFICIENCY,
)
