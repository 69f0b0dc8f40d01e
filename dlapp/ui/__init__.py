"""Streamlit helpers for app.py and the pages: `render_<thing>(...) -> None` plus a few cached loaders.

The only part of dlapp that imports Streamlit, split by page. Nothing here imports TensorFlow at
module level (the home page imports this package and must stay fast); functions that need
Keras import it when called. Pages use `from dlapp import ui` and `ui.<name>`; this module
exports exactly what they use (anything else: import it from its own module).
"""

from dlapp.ui.common import (
    STATUS_ICONS,
    dataset_title,
    friendly_errors,
    get_store,
    headline_metric,
    load_dataset,
    page_setup,
    pick_run,
    render_data_availability,
    render_digit,
    run_status,
    runs_with_model,
)
from dlapp.ui.continuation import render_continuation, use_settings
from dlapp.ui.drawing import (
    draw_models,
    prepare_model,
    render_canvas,
    render_guess,
    render_model_note,
    render_test_set,
)
from dlapp.ui.evaluation import evaluation_report, latent_codes_for, render_autoencoder_report, render_classifier_report
from dlapp.ui.experiment_view import experiment_store, pick_experiment, render_experiment
from dlapp.ui.experiments import follow_open_in_train, render_new_experiment
from dlapp.ui.exports import render_runs_csv
from dlapp.ui.finetune import prompted_digit, render_finetune, render_prompt, render_review
from dlapp.ui.instruments import render_first_layer, render_forward_pass, render_gradient_chart, render_layer_history
from dlapp.ui.presets import render_presets
from dlapp.ui.runs import (
    import_model,
    render_delete,
    render_downloads,
    render_overlay,
    render_rename,
    render_runs_table,
)
from dlapp.ui.settings import render_model_summary, render_settings
from dlapp.ui.starter import model_label
from dlapp.ui.text import escape_markdown
from dlapp.ui.training import is_training, render_shown_run, render_train_button, shown_run

__all__ = [
    "render_continuation",
    "run_status",
    "use_settings",
    "render_review",
    "render_prompt",
    "render_finetune",
    "prompted_digit",
    "STATUS_ICONS",
    "dataset_title",
    "draw_models",
    "escape_markdown",
    "evaluation_report",
    "experiment_store",
    "follow_open_in_train",
    "friendly_errors",
    "get_store",
    "headline_metric",
    "import_model",
    "is_training",
    "latent_codes_for",
    "load_dataset",
    "model_label",
    "page_setup",
    "prepare_model",
    "pick_experiment",
    "pick_run",
    "render_autoencoder_report",
    "render_canvas",
    "render_classifier_report",
    "render_data_availability",
    "render_delete",
    "render_digit",
    "render_downloads",
    "render_experiment",
    "render_first_layer",
    "render_forward_pass",
    "render_gradient_chart",
    "render_guess",
    "render_model_note",
    "render_layer_history",
    "render_model_summary",
    "render_new_experiment",
    "render_presets",
    "render_overlay",
    "render_rename",
    "render_runs_csv",
    "render_runs_table",
    "render_settings",
    "render_shown_run",
    "render_test_set",
    "render_train_button",
    "runs_with_model",
    "shown_run",
]
