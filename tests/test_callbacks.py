"""EventCallback on its own: throttling, the last batch of an epoch, the stop flag."""

from __future__ import annotations

import threading

import keras
import numpy as np

from dlapp.callbacks import EventCallback


class Owner:
    def __init__(self):
        self.stop_requested = False
        self.batches: list[dict] = []
        self.epochs: list[dict] = []

    def on_batch(self, data):
        self.batches.append(data)

    def on_epoch(self, data):
        self.epochs.append(data)


def _callback(owner, min_interval):
    callback = EventCallback(owner, min_interval=min_interval)
    callback.set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    callback.set_params({"epochs": 1, "steps": 50})
    callback.model.stop_training = False  # model.fit sets this before the first batch
    return callback


def test_batches_are_throttled_but_the_last_batch_of_an_epoch_always_arrives():
    owner = Owner()
    callback = _callback(owner, min_interval=3600.0)
    callback.on_epoch_begin(0)
    for step in range(50):
        callback.on_train_batch_end(step, {"loss": 1.0 / (step + 1), "accuracy": 0.5})
    callback.on_epoch_end(0, {"loss": 0.02, "val_loss": 0.03})
    assert [b["step"] for b in owner.batches] == [0, 49]  # the first, then the last of the epoch
    assert owner.batches[-1] == {"epoch": 0, "step": 49, "steps": 50, "loss": 0.02, "accuracy": 0.5}
    assert owner.epochs == [{"epoch": 0, "loss": 0.02, "val_loss": 0.03}]


def test_without_throttling_every_batch_is_forwarded():
    owner = Owner()
    callback = _callback(owner, min_interval=0.0)
    for step in range(50):
        callback.on_train_batch_end(step, {"loss": 1.0})
    assert [b["step"] for b in owner.batches] == list(range(50))


def test_the_stop_flag_stops_training_after_the_current_batch():
    owner = Owner()
    callback = _callback(owner, min_interval=0.0)
    callback.on_train_batch_end(0, {"loss": 1.0})
    assert not callback.model.stop_training
    owner.stop_requested = True
    callback.on_train_batch_end(1, {"loss": 1.0})
    assert callback.model.stop_training


def test_stop_now_from_another_thread_ends_a_real_fit_after_the_running_call():
    owner = Owner()
    events = EventCallback(owner, min_interval=0.0)

    class StopFromAThreadAtBatch5(keras.callbacks.Callback):
        async_safe = True

        def on_train_batch_begin(self, batch, logs=None):  # on the training thread, before the call
            if batch == 5:  # as the page's Stop button does: another thread, no flag for the hooks
                pressed = threading.Thread(target=events.stop_now)
                pressed.start()
                pressed.join()

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", steps_per_execution=1)
    x, y = np.zeros((400, 4), "float32"), np.zeros(400, "int32")
    model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[events, StopFromAThreadAtBatch5()])
    assert int(model.optimizer.iterations.numpy()) == 6  # batches 0-5 of 120: the loop stopped after the call
