"""Person-typed text (run names, error sentences that quote input) shown as text, never as markup.

Streamlit renders Markdown almost everywhere: st.markdown, captions, headings, alerts, toasts,
metric and widget labels, help tooltips, expander titles and radio options (selectbox options,
text inputs and dataframe cells are plain). Its Markdown adds `$...$` LaTeX, `:emoji:`
shortcodes, `:color[...]` and `:material/...:` directives and bare-URL autolinks to the usual
images, links, HTML and emphasis. Every such string passes through `escape_markdown` first.
"""

from __future__ import annotations

import re
import string

from dlapp.plots import one_line

_PUNCTUATION = frozenset(string.punctuation)  # CommonMark lets a backslash escape any of these
WORD_JOINER = "\u2060"  # invisible and never part of a URL
# Bare URLs ("http://", "www.", "a@b.c") become links after escapes are undone, so a backslash
# cannot stop them; a word joiner inside "http:", "www." or after "@" does.
_AUTOLINK_HOOKS = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?<=@)")


def escape_markdown(text: object) -> str:
    """`text` on one line with every Markdown, LaTeX, HTML and directive character backslash-escaped.

    Put the result into Markdown and it shows the characters typed: `![t](u)` stays a bang,
    brackets and parentheses; `$x$` stays two dollars; `:red[x]` stays a colon and brackets.
    """
    # Edge spaces are dropped: four leading ones would start a code block, and Markdown hides them anyway.
    line = _AUTOLINK_HOOKS.sub(WORD_JOINER, one_line(text).strip())
    return "".join("\\" + char if char in _PUNCTUATION else char for char in line)
