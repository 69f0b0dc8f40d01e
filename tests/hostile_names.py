"""Names a careless or hostile person might give a run, and helpers to check they are shown as text.

Every URL points at 127.0.0.1:9 (the discard port) or example.com, so a browser test can
tell a request caused by a name from the app's own. Shared by the AppTest and Chromium tests.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dlapp.config import RunConfig
from dlapp.errors import DlappError

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore

LONG_TAIL = "![long](http://127.0.0.1:9/long.png) "
HOSTILE_NAMES = {
    "markdown image": "pwn ![t](http://127.0.0.1:9/track.png)",
    "markdown link": "[a link](http://127.0.0.1:9/link)",
    "javascript link": "[click me](javascript:alert(1))",
    "html img": '<img src="http://127.0.0.1:9/onerror.png" onerror="alert(2)">',
    "script": "<script>fetch('http://127.0.0.1:9/script')</script>",
    "latex": r"$\frac{a}{b}$",
    "directives": ":red[red] :smile: :material/home: **bold** `code` ~~gone~~",
    "bare urls": "see http://127.0.0.1:9/bare or www.example.com or me@example.com",
    "10,000 characters": LONG_TAIL + "w" * (10_000 - len(LONG_TAIL)),  # one unbreakable word
    "newline": "first line\n# heading ![t](http://127.0.0.1:9/newline.png)\n- a list item",
    "right-to-left override": "report\u202egnp.exe",
    "emoji": "🧠 digits 👍🏽 🇫🇷",
    "only spaces": "     ",
}
# The names rule (at most 100 characters, one line, not blank) may refuse these with a sentence;
# every other name must be stored and shown.
MAY_BE_REFUSED = {"10,000 characters", "newline", "only spaces"}
URL_MARKERS = ("127.0.0.1:9", "example.com")  # any request for one of these came from a name

INVISIBLE = re.compile("[\u2060\u2068\u2069]")  # word joiner and bidi isolates added by escape_markdown
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash before ASCII punctuation


def as_shown(markdown: str) -> str:
    """The text a reader sees for `markdown` made of escaped text (escapes undone, invisible marks gone)."""
    return INVISIBLE.sub("", ESCAPE.sub(r"\1", markdown))


def add_named_run(store: RunStore, name: str, model=None) -> Run | str:
    """A finished MLP run called `name` (with `model` saved as its file), or the sentence refusing the name."""
    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), dataset="mnist-sample", epochs=2)
    try:
        run_id = store.create_run(config, name=name)
    except (ValueError, DlappError) as exc:
        return str(exc)
    for epoch, (loss, accuracy) in enumerate(((1.2, 0.6), (0.8, 0.75))):
        store.add_epoch(run_id, epoch, {"loss": loss, "accuracy": accuracy, "val_loss": loss + 0.1})
    if model is not None:
        store.save_model(run_id, model)
    metrics = {"test_loss": 0.8, "test_accuracy": 0.75}
    store.finish_run(run_id, "finished", metrics=metrics, seconds=3.0, samples_per_second=100.0)
    return store.run(run_id)


def is_one_sentence(message: str) -> bool:
    return "\n" not in message.strip() and message.strip().endswith(".") and "Traceback" not in message


def markdown_strings(at) -> list[str]:
    """Every string of an AppTest page that Streamlit renders as Markdown.

    Bodies of markdown, captions, headings, alerts and toasts; labels and help of widgets,
    metrics and expanders; radio and segmented-control options. Selectbox options, text
    inputs and dataframe cells are plain text and left out.
    """
    found = []
    for node in at._tree:
        kind = getattr(node, "type", "")
        if kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success"):
            found.append(node.value)
        if kind == "toast":
            found.append(node.value)
        for attribute in ("label", "help"):
            value = getattr(node, attribute, None)  # widgets, metrics, expanders
            if isinstance(value, str):
                found.append(value)
        if kind in ("radio", "button_group"):
            found.extend(str(option) for option in node.options)
    return [text for text in found if text]
