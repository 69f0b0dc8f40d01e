"""The name rule (dlapp.names) against a hostile corpus, in the rule itself and through the store."""

from __future__ import annotations

import pytest

from dlapp.config import RunConfig
from dlapp.errors import DlappError, InvalidName
from dlapp.names import MAX_NAME_LENGTH, clean_name, clean_optional_name
from dlapp.store import RunStore

# Text that would be markup somewhere: it is kept exactly as typed (the pages show it as text).
KEPT = {
    "markdown image": "pwn ![t](http://127.0.0.1:9/track.png)",
    "markdown link": "[click me](http://127.0.0.1:9/)",
    "javascript link": "[link](javascript:alert(1))",
    "img onerror": "<img src=x onerror=alert(2)>",
    "script": "<script>alert(3)</script>",
    "latex": r"$\frac{a}{b}$",
    "emoji": "🔥 fast run 👩‍💻🇫🇷",
    "exactly 100 characters": "x" * MAX_NAME_LENGTH,
}
REFUSED = {
    "10,000 characters": ("a" * 10_000, "at most 100 characters; this one has 10,000"),
    "newline": ("first line\nsecond line", "must fit on one line"),
    "carriage return": ("first\rsecond", "must fit on one line"),
    "unicode line separator": ("first\u2028second", "must fit on one line"),
    "101 characters": ("y" * 101, "at most 100 characters; this one has 101"),
}


def one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message and "\n" not in message


@pytest.mark.parametrize("name", KEPT.values(), ids=KEPT.keys())
def test_markup_and_emoji_are_kept_as_typed(name):
    assert clean_name(name) == name


@pytest.mark.parametrize(("name", "words"), REFUSED.values(), ids=REFUSED.keys())
def test_long_or_multi_line_names_are_refused_in_one_sentence(name, words):
    with pytest.raises(InvalidName, match=words) as info:
        clean_name(name)
    assert one_sentence(str(info.value))
    assert isinstance(info.value, ValueError) and isinstance(info.value, DlappError)


def test_control_characters_and_the_right_to_left_override_are_removed():
    assert clean_name("evil\u202eexe.txt") == "evilexe.txt"  # U+202E would show "txt.exe" backwards
    assert clean_name("a\tb\x00c\x1b[31md\x7f") == "abc[31md"
    assert clean_name("  padded  ") == "padded"


def test_the_length_counts_what_is_left_after_control_characters_go():
    assert clean_name("\u202e" * 50 + "z" * MAX_NAME_LENGTH) == "z" * MAX_NAME_LENGTH


@pytest.mark.parametrize("blank", ["", "   ", "\t \u202e "], ids=["empty", "only spaces", "only controls"])
def test_a_blank_name_is_refused_or_means_the_default(blank):
    with pytest.raises(InvalidName, match="cannot be empty"):
        clean_name(blank)
    assert clean_optional_name(blank) is None
    assert clean_optional_name(None) is None


def test_the_sentence_names_what_was_typed():
    with pytest.raises(InvalidName, match="^A tag must fit on one line"):
        clean_name("a\nb", "tag")


# --- through the store: no path round the rule ----------------------------------------------------


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path)


@pytest.mark.parametrize("name", KEPT.values(), ids=KEPT.keys())
def test_the_store_keeps_hostile_but_valid_names_literally(store, name):
    run_id = store.create_run(RunConfig(), name=name)
    assert store.run(run_id).name == name
    other = store.create_run(RunConfig())
    store.rename(other, name)
    store.set_tags(other, [name])
    assert (store.run(other).name, store.run(other).tags) == (name, [name])


@pytest.mark.parametrize(("name", "words"), REFUSED.values(), ids=REFUSED.keys())
def test_the_store_saves_nothing_for_a_refused_name(store, name, words):
    with pytest.raises(InvalidName, match=words):
        store.create_run(RunConfig(), name=name)
    assert store.runs() == []
    run_id = store.create_run(RunConfig(), name="kept")
    with pytest.raises(InvalidName, match=words):
        store.rename(run_id, name)
    with pytest.raises(InvalidName, match=words):
        store.set_tags(run_id, ["fine", name])
    run = store.run(run_id)
    assert (run.name, run.tags) == ("kept", [])


def test_the_store_cleans_control_characters_out_of_names_and_tags(store):
    run_id = store.create_run(RunConfig(), name="right\u202eto left\x07")
    store.set_tags(run_id, ["\u202ebidi", "bell\x07", "  ", ""])
    run = store.run(run_id)
    assert (run.name, run.tags) == ("rightto left", ["bell", "bidi"])


def test_a_name_of_only_spaces_gives_the_default_name_and_cannot_replace_one(store):
    run_id = store.create_run(RunConfig().replace(arch="mlp"), name="   ")
    assert store.run(run_id).name == f"mlp-{run_id}"
    with pytest.raises(InvalidName, match="cannot be empty"):
        store.rename(run_id, "   ")
    assert store.run(run_id).name == f"mlp-{run_id}"
