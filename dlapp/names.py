"""The rule for names people type (run names, tags, later experiment names), checked before one is saved.

A name is at most 100 characters on one line. Control characters (tab, escape, NUL, ...)
and the invisible bidirectional controls (such as U+202E, which makes text read backwards
and can disguise a name) are removed; a line break, or a name still too long after that,
is refused with one sentence and nothing is saved. Anything else - Markdown, HTML, LaTeX,
emoji - is kept as typed: it is text, and the pages show it as text.

A name that is only spaces (or empty) counts as no name: `clean_name` refuses it, and
`clean_optional_name` returns None so the caller can use its default (a new run is then
named `<architecture>-<run id>`, such as `cnn-7`).
"""

from __future__ import annotations

import unicodedata

from dlapp.errors import InvalidName

MAX_NAME_LENGTH = 100
# Unicode bidirectional formatting controls: embeddings, overrides, isolates and marks.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")  # every break str.splitlines() knows


def clean_name(text: str, what: str = "run name") -> str:
    """`text` without control characters and outer spaces; raises InvalidName with one sentence.

    `what` names the thing in the sentence ("run name", "tag").
    """
    name = _without_controls(text, what)
    if not name:
        raise InvalidName(f"A {what} cannot be empty; type at least one character.")
    return name


def clean_optional_name(text: str | None, what: str = "run name") -> str | None:
    """Like `clean_name`, but None, "" or only spaces give None: the caller's default name applies."""
    if text is None:
        return None
    return _without_controls(text, what) or None


def _without_controls(text: str, what: str) -> str:
    """The name as it is saved ("" when nothing is left); one-sentence InvalidName when it cannot be."""
    if not isinstance(text, str):
        raise InvalidName(f"A {what} must be text; got {type(text).__name__}.")
    if any(char in LINE_BREAKS for char in text):
        raise InvalidName(f"A {what} must fit on one line; remove the line break.")
    name = "".join(char for char in text if not _is_control(char)).strip()
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(
            f"A {what} can be at most {MAX_NAME_LENGTH} characters; this one has {len(name):,}, so shorten it."
        )
    return name


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS
