"""Evaluation numbers against model.evaluate and hand-computed counts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from dlapp.config import RunConfig
from dlapp.data import prepare
from dlapp.errors import ModelRejected, StoreError
from dlapp.evaluation import (
    decode_points,
    evaluate_autoencoder,
    evaluate_classifier,
    latent_codes,
    load_run_model,
    reconstruct_batch,
)
from dlapp.models import build_compiled
from dlapp.store import RunStore


def _trained(config: RunConfig):
    keras.utils.set_random_seed(config.train.seed)
    data = prepare(config.data, config.model.arch, seed=config.train.seed)
    model = build_compiled(config)
    target = data.y_train if config.is_classifier else data.x_train
    model.fit(data.x_train, target, batch_size=config.train.batch_size, epochs=config.train.epochs, verbose=0)
    return model, data


@pytest.fixture(scope="module")
def classifier():
    # l2 > 0, so the loss must include the regularisation penalty to match model.evaluate.
    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), l2=1e-3, train_subset=400, epochs=1, batch_size=32)
    return _trained(config)


def test_classifier_report_agrees_with_model_evaluate(classifier):
    model, data = classifier
    report = evaluate_classifier(model, data.x_test, data.y_test, data.class_names)
    keras_scores = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0, return_dict=True)
    assert report.loss == pytest.approx(keras_scores["loss"], rel=1e-4)
    assert report.accuracy == pytest.approx(keras_scores["accuracy"], abs=1e-6)
    assert report.probabilities.shape == (1000, 10)
    np.testing.assert_array_equal(report.predictions, model.predict(data.x_test, verbose=0).argmax(axis=1))


def test_confusion_and_per_class_scores_match_hand_counts(classifier):
    model, data = classifier
    report = evaluate_classifier(model, data.x_test, data.y_test, data.class_names)
    labels, predictions = data.y_test.astype(int), report.predictions
    by_hand = np.zeros((10, 10), dtype=int)
    for true, predicted in zip(labels, predictions, strict=True):
        by_hand[true, predicted] += 1
    np.testing.assert_array_equal(report.confusion, by_hand)
    for k in range(10):
        predicted_k, actual_k = np.sum(predictions == k), np.sum(labels == k)
        hits = np.sum((predictions == k) & (labels == k))
        precision = hits / predicted_k if predicted_k else 0.0
        recall = hits / actual_k
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert (report.precision[k], report.recall[k], report.f1[k]) == pytest.approx((precision, recall, f1))


def test_mistakes_are_the_wrong_predictions_most_confident_first(classifier):
    model, data = classifier
    report = evaluate_classifier(model, data.x_test, data.y_test, data.class_names)
    wrong = set(np.flatnonzero(report.predictions != report.labels))
    assert set(report.mistakes.tolist()) == wrong and len(report.mistakes) == len(wrong)
    confidence = report.probabilities.max(axis=1)[report.mistakes]
    assert np.all(np.diff(confidence) <= 0)
    assert report.class_names == tuple(str(d) for d in range(10))


def test_autoencoder_report_latents_and_reconstructions():
    config = RunConfig.from_flat(
        arch="autoencoder", encoder_units=(32,), latent_dim=2, reconstruction_loss="mse", train_subset=300, epochs=1
    )
    model, data = _trained(config)
    report = evaluate_autoencoder(model, data.x_test)
    keras_scores = model.evaluate(data.x_test, data.x_test, batch_size=256, verbose=0, return_dict=True)
    assert report.mse == pytest.approx(keras_scores["mse"], rel=1e-4)
    assert report.reconstructions.shape == (1000, 28, 28)
    assert np.all(np.diff(report.errors[report.worst]) <= 0)

    codes = latent_codes(model, data.x_test[:50])
    assert codes.shape == (50, 2)
    np.testing.assert_allclose(codes, model.get_layer("encoder").predict(data.x_test[:50], verbose=0), atol=1e-5)
    np.testing.assert_allclose(decode_points(model, codes), reconstruct_batch(model, data.x_test[:50]), atol=1e-5)
    uint8_images = (data.x_test[:5] * 255).round().astype(np.uint8)  # raw digits are accepted too
    assert latent_codes(model, uint8_images).shape == (5, 2)


def test_load_run_model_uses_the_saved_file(tmp_path, classifier):
    model, data = classifier
    store = RunStore(tmp_path)
    run_id = store.create_run(RunConfig())
    with pytest.raises(StoreError, match=f"Run {run_id} has no saved model"):
        load_run_model(store, run_id)
    store.save_model(run_id, model)
    loaded = load_run_model(store, run_id)
    np.testing.assert_allclose(loaded.predict(data.x_test[:20], verbose=0), model.predict(data.x_test[:20], verbose=0))
    store.model_file(run_id).write_bytes(b"not a zip")
    with pytest.raises(ModelRejected, match="not a Keras model \\(not a zip archive\\)"):
        load_run_model(store, run_id)
    store.model_file(run_id).unlink()
    with pytest.raises(StoreError, match=f"The model file of run {run_id} is missing"):
        load_run_model(store, run_id)
