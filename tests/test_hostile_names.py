"""Every page shows a hostile run name as the characters typed: no image, link, LaTeX or heading from it."""

from pathlib import Path

import pytest
from hostile_names import HOSTILE_NAMES, MAY_BE_REFUSED, add_named_run, as_shown, is_one_sentence, markdown_strings
from streamlit.testing.v1 import AppTest

from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore
from dlapp.ui.common import run_label
from dlapp.ui.text import escape_markdown

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["pages/data.py", "pages/train.py", "pages/evaluate.py", "pages/draw.py", "pages/runs.py"]
TIMEOUT = 60  # the first page that needs Keras imports TensorFlow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A really trained one-epoch MLP, loaded once and saved as every hostile run's model file."""
    from dlapp.modelfile import load_model_file

    store = RunStore(tmp_path_factory.mktemp("source"))
    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), dataset="mnist-sample", train_subset=200, epochs=1)
    job = TrainingJob(config, store).start()
    assert job.wait(timeout=300) == "finished", job.error
    return load_model_file(store.run(job.run_id).model_path)


def shown_line(name: str) -> str:
    """What a reader should see for `name` in a line of Markdown: the name on one line."""
    return " ".join(name.splitlines()).strip()


def assert_no_markup_from(at: AppTest, name: str, page: str) -> None:
    """No Markdown string of the page holds a line of `name` that Markdown would read as markup."""
    assert not at.exception, (page, [e.message for e in at.exception])
    risky = [line.strip() for line in name.splitlines() if escape_markdown(line) != line.strip()]
    for text in markdown_strings(at):
        for line in risky:
            text = text.replace(
                escape_markdown(line), ""
            )  # the escaped form is fine; what is left must not hold it raw
        assert not any(line in text for line in risky), (page, text[:200])


@pytest.mark.parametrize("label", list(HOSTILE_NAMES))
def test_every_page_shows_a_hostile_run_name_literally(label, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    run = add_named_run(RunStore(tmp_path), HOSTILE_NAMES[label], tiny_model)
    if isinstance(run, str):  # the names rule refused it: one sentence, nothing stored
        assert label in MAY_BE_REFUSED and is_one_sentence(run), run
        assert RunStore(tmp_path).runs() == []
        return

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["train_run_id"] = run.id  # the Train page shows this session's run by name
    at.run()
    assert_no_markup_from(at, run.name, "home")
    assert any(shown_line(run.name) in as_shown(m.value) for m in at.markdown), "Home lists the run by name"
    for page in PAGES:
        at.switch_page(page).run()
        assert_no_markup_from(at, run.name, page)
        if page == "pages/train.py":
            assert f"Run #{run.id}: {shown_line(run.name)}".strip() in [as_shown(h.value) for h in at.subheader]
        if page in ("pages/evaluate.py", "pages/draw.py", "pages/runs.py"):  # the run picker: plain text
            assert run_label(run) in at.selectbox[0].options


def test_a_failed_runs_error_quoting_a_name_is_shown_as_text(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    run = add_named_run(store, "plain")
    error = f"ValueError: no layer called {HOSTILE_NAMES['markdown image']}"
    store.finish_run(run.id, "failed", metrics={}, seconds=1.0, samples_per_second=0.0, error=error)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["train_run_id"] = run.id
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert f"Run #{run.id} failed: {error}" in [as_shown(e.value) for e in at.error]
    assert not any(HOSTILE_NAMES["markdown image"] in text for text in markdown_strings(at))
