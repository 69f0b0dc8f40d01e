"""The generated script's training half: the optimizer, compile, and main (load, fit, evaluate, save)."""

from __future__ import annotations

from dlapp.config import RunConfig


def literal(value: object) -> str:
    """A Python literal for a validated config value: repr, with double quotes where that changes nothing."""
    text = repr(value)
    if isinstance(value, str) and '"' not in value and "\\" not in text:
        text = f'"{text[1:-1]}"'
    elif isinstance(value, tuple):
        text = "(" + ", ".join(literal(item) for item in value) + ("," if len(value) == 1 else "") + ")"
    return text


# --- compile, train, evaluate, save --------------------------------------------------------


def _optimizer_code(config: RunConfig, rate: str = "LEARNING_RATE") -> str:
    train = config.train
    if train.optimizer == "sgd":
        return f"keras.optimizers.SGD({rate}, momentum={literal(train.momentum)})"
    if train.optimizer == "adamw":
        return f"keras.optimizers.AdamW({rate}, weight_decay={literal(train.weight_decay)})"
    name = {"adam": "Adam", "rmsprop": "RMSprop"}[train.optimizer]
    return f"keras.optimizers.{name}({rate})"


def cosine(config: RunConfig) -> bool:
    return config.train.lr_schedule == "cosine"


def smoothed(config: RunConfig) -> bool:
    """Label smoothing applies to a classifier's cross-entropy; the script then one-hots its targets."""
    return config.is_classifier and config.model.loss == "crossentropy" and config.train.label_smoothing > 0


def _loss_code(config: RunConfig) -> str:
    if not config.is_classifier:
        return literal(config.model.reconstruction_loss)
    if config.model.loss == "mse":
        return literal("mean_squared_error")
    if smoothed(config):
        return f"keras.losses.CategoricalCrossentropy(label_smoothing={literal(config.train.label_smoothing)})"
    return literal("sparse_categorical_crossentropy")


def compile_code(config: RunConfig) -> str:
    metric = "accuracy" if config.is_classifier else "mse"
    head, rate = "def compile_model(model):", "LEARNING_RATE"
    if cosine(config):
        head = (
            "def compile_model(model, total_steps=1):\n"
            "    # The learning rate falls along half a cosine, from LEARNING_RATE to 0 at the fit's last batch.\n"
            "    learning_rate = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=total_steps)"
        )
        rate = "learning_rate"
    return f"""{head}
    model.compile(
        optimizer={_optimizer_code(config, rate)},
        loss={_loss_code(config)},
        metrics=[{literal(metric)}],
    )
    return model"""


def _targets_line(config: RunConfig) -> str:
    if not config.is_classifier:  # the autoencoder learns to give back its input: the images are the targets
        return "t_train, t_val, t_test = x_train, x_val, x_test  # what the model should output for each image"
    if smoothed(config):
        return (
            "# Label smoothing needs a one-hot target: 3 -> [0, 0, 0, 1, 0, 0, 0, 0, 0, 0], then softened.\n"
            "    t_train, t_val, t_test = (keras.utils.to_categorical(y, 10) for y in (y_train, y_val, y_test))"
        )
    if config.model.loss == "mse":
        return (
            "# MSE compares the 10 probabilities with a one-hot target: 3 -> [0, 0, 0, 1, 0, 0, 0, 0, 0, 0].\n"
            "    t_train, t_val, t_test = (keras.utils.to_categorical(y, 10) for y in (y_train, y_val, y_test))"
        )
    return "t_train, t_val, t_test = y_train, y_val, y_test  # what the model should output for each image"


def main_code(config: RunConfig) -> str:
    autoencoder = not config.is_classifier
    report = (
        "print(f\"test loss {scores['loss']:.4f}, test mse {scores['mse']:.4f}\")"
        if autoencoder
        else "print(f\"test loss {scores['loss']:.4f}, test accuracy {scores['accuracy']:.4f}\")"
    )
    output = f"dlapp_{config.model.arch}.keras"
    compile_call = "compile_model(build_model())"
    if cosine(config):
        compile_call = "compile_model(build_model(), EPOCHS * int(np.ceil(len(x_train) / BATCH_SIZE)))"
    if autoencoder:  # only the split needs the labels
        loading = (
            "(x_train, y_train), (x_test, _) = load_data(args.data)\n"
            "    (x_train, _), (x_val, _) = split(x_train, y_train)"
        )
    else:
        loading = (
            "(x_train, y_train), (x_test, y_test) = load_data(args.data)\n"
            "    (x_train, y_train), (x_val, y_val) = split(x_train, y_train)"
        )
    return f"""def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a local .npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--output", default={literal(output)}, help="where to save the trained model")
    args = parser.parse_args()

    keras.utils.set_random_seed(SEED)
    keras.config.set_dtype_policy(PRECISION)  # every layer built from here on computes in this format
    {loading}
    x_train, x_val, x_test = prepare(x_train), prepare(x_val), prepare(x_test)
    {_targets_line(config)}

    model = {compile_call}
    model.summary()
    validation = (x_val, t_val) if len(x_val) else None
    callbacks = []
    if EARLY_STOPPING:
        monitor = "val_loss" if validation else "loss"
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor=monitor, patience=EARLY_STOPPING, restore_best_weights=True)
        )
    model.fit(
        x_train,
        t_train,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        validation_data=validation,
        callbacks=callbacks,
    )

    scores = model.evaluate(x_test, t_test, batch_size=BATCH_SIZE, return_dict=True, verbose=0)
    {report}
    model.save(args.output)
    print(f"saved the trained model to {{args.output}}")


if __name__ == "__main__":
    main()"""
