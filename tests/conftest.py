"""Fixtures every browser test module shares: one Chromium per module, a fresh page per test.

One Playwright per module, not per session: while Playwright's sync API is open it marks an
asyncio loop as running on the main thread, which the non-browser modules collected between
the browser ones should not inherit. Every browser module takes its browser from here, so two
never overlap (a second sync Playwright started inside the first one fails).
"""

from __future__ import annotations

import pytest
from streamlit_server import ARTIFACTS, SLOW, browser_page, chromium_browser, screenshot_failure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so a fixture can see that its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium for this module (skipped, or failed on CI, when it is missing)."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=SLOW)  # expect(...) waits as long as a locator does (5 s by default)
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def page(browser, request):
    """A 1400x900 page in its own browser context, closed after the test (screenshotted if it failed)."""
    with browser_page(browser) as page:
        yield page
        if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
            screenshot_failure(page.context)


# The longest tests of the default run (measured with --durations on the 2-core machine): moved to
# the `slow` set so `python -m pytest` stays under 10 minutes there. `python -m pytest -m slow`
# runs them with the long browser modules. Each entry is a node id, or the start of one.
LONG_TESTS = (
    "tests/test_bench.py::test_bench_prints_a_table_and_one_json_object_with_every_measurement",
    "tests/test_finetune.py::test_fine_tuning_on_a_new_style_raises_heldout_accuracy",
    "tests/test_instruments.py::test_in_an_8_layer_sigmoid_mlp",
    "tests/test_instruments.py::test_recorded_gradient_norms_equal_a_direct_gradient_tape_computation[cnn",
    "tests/test_instruments.py::test_recorded_gradient_norms_equal_a_direct_gradient_tape_computation[rnn",
    "tests/test_instruments.py::test_recorded_gradient_norms_equal_a_direct_gradient_tape_computation[resnet",
    "tests/test_instruments_in_jobs.py::test_every_epoch_row_and_event_carries_each_layers_statistics",
    "tests/test_cli.py::test_autoencoder_reports_mse_instead_of_accuracy",
    "tests/test_cli.py::test_sigint_during_training_stops_the_job_and_keeps_the_run",
    "tests/test_cli.py::test_evaluate_refuses_a_crafted_model_file_in_one_sentence",
    "tests/test_cli.py::test_evaluate_reproduces_the_stored_test_accuracy",
    "tests/test_hardening.py::test_cli_training_writes_only_under_the_data_dir",
    "tests/test_faults.py::test_a_failed_cli_run_exits_1_with_its_error_on_one_line",
    "tests/test_faults.py::test_a_store_turning_read_only_mid_training",
    "tests/test_faults.py::test_a_disk_filling_up_mid_training_ends_the_job_cleanly",
    "tests/test_distribute.py::test_mirrored_strategy_trains_on_two_logical_cpus",
    "tests/test_experiment_delete.py::test_deleting_an_experiment_deletes_its_runs_model_files_and_study",
    "tests/test_experiment_cli.py::test_experiments_delete_removes_the_experiment_and_its_runs_or_keeps_the_runs",
    "tests/test_experiment_cli.py::test_ctrl_c_stops_the_experiment_and_keeps_its_runs",
    "tests/test_experiments.py::test_a_search_reports_every_epoch_to_optuna_and_resumes_after_a_stop",
    "tests/test_codegen.py::test_generated_script_trains_end_to_end_on_a_local_npz[autoencoder]",
    "tests/test_codegen.py::test_generated_script_trains_end_to_end_on_a_local_npz[mlp-mse]",
    "tests/test_jobs.py::test_a_killed_process_leaves_its_epochs_an_interrupted_run_and_its_last_checkpoint",
    "tests/test_jobs.py::test_the_limit_is_read_once_so_a_bad_value_later_cannot_hang_wait",
    "tests/test_jobs.py::test_a_limit_of_one_runs_jobs_one_after_the_other",
    "tests/test_sharing_pages.py::test_a_resumed_search_stays_its_owners_and_so_do_its_new_trials",
    "tests/test_precision.py::test_every_architecture_trains_a_batch_under_every_policy_with_float32_outputs[resnet",
    "tests/test_precision.py::test_every_architecture_trains_a_batch_under_every_policy_with_float32_outputs[rnn",
    "tests/test_augment.py::test_a_model_with_every_drawing_layer_fits_in_graph_mode",
    "tests/test_lesson_runs.py::test_the_loss_lesson_trains_both_variants_and_observes_their_own_numbers",
    "tests/test_browser.py::test_every_page_fits_a_phone_screen",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(LONG_TESTS):
            item.add_marker(pytest.mark.slow)
