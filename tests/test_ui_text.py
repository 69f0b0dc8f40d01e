"""escape_markdown: whatever a person types comes out of a Markdown renderer as exactly that text."""

import html
import re

from hostile_names import HOSTILE_NAMES, INVISIBLE
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dlapp.ui.text import escape_markdown

COMMONMARK = MarkdownIt("commonmark")  # the reference: CommonMark itself, as Streamlit's renderer starts from it


def rendered_text(markdown: str) -> tuple[str, list[str]]:
    """(the text a reader sees, the HTML tags used) for `markdown` rendered by CommonMark."""
    out = COMMONMARK.render(markdown).strip()
    tags = re.findall(r"</?([a-z0-9]+)", out)
    return html.unescape(re.sub(r"</?p>", "", out)), tags


def test_every_hostile_name_renders_as_its_own_text_in_one_paragraph():
    for name in HOSTILE_NAMES.values():
        text, tags = rendered_text(escape_markdown(name))
        assert set(tags) <= {"p"}, (name[:60], tags)
        assert INVISIBLE.sub("", text) == " ".join(name.splitlines()).strip()


MARKUP = st.sampled_from("*_[]()!<>`$:#-+.\\&~|= \n")  # Markdown's own characters, often
# Control characters are the names rule's job; the invisible marks are escape_markdown's own.
ANY_CHARACTER = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"], exclude_characters="\u2060\u2068\u2069")


@given(st.text(alphabet=MARKUP | ANY_CHARACTER, max_size=60))
def test_any_line_of_text_survives_commonmark_unchanged(text):
    shown, tags = rendered_text(escape_markdown(text))
    assert set(tags) <= {"p"}
    assert INVISIBLE.sub("", shown) == " ".join(text.splitlines()).strip()
