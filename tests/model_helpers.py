"""Helpers the model and codegen tests share."""

import keras


def layer_types(model: keras.Model) -> list[str]:
    """Layer class names in order, walking into nested models (augmentation, encoder, decoder)."""
    out = []
    for layer in model.layers:
        out.append(type(layer).__name__)
        if isinstance(layer, keras.Model):
            out.extend(layer_types(layer))
    return out
