"""Simulated people from the pen digits: styles are stable, a person's saved and tested drawings
never overlap and share each digit's style, and 7s, 1s and 9s come from the styles a model misses."""

import numpy as np

from dlapp.tools.pen_writers import STYLES, missed_styles, person, style_accuracy, style_clusters
from dlapp.tools.sketches import load_pendigits


def test_styles_are_per_digit_and_stable():
    points, labels = load_pendigits()
    styles = style_clusters(points, labels)
    assert (styles // STYLES == labels).all()  # every style belongs to one digit
    assert (style_clusters(points, labels) == styles).all()
    assert np.bincount(styles).min() >= 20  # no empty or tiny style


def test_a_person_saves_and_is_tested_on_disjoint_drawings_of_the_same_styles():
    points, labels = load_pendigits()
    styles = style_clusters(points, labels)
    correct = labels != 7  # pretend the model reads everything but 7s
    missed = missed_styles(style_accuracy(styles, correct), smallest=30)
    assert all(s // STYLES == 7 for s in missed[7]) and len(missed[7]) == STYLES
    someone = person(styles, missed, seed=1, saved=13, tested=40)
    assert not set(someone.saved_rows) & set(someone.test_rows)
    assert np.bincount(labels[someone.saved_rows], minlength=10).tolist() == [13] * 10
    assert labels[someone.saved_rows][:10].tolist() == list(range(10))  # saved in rounds of 0-9
    for rows in (someone.saved_rows, someone.test_rows):
        assert all(styles[row] == someone.styles[labels[row]] for row in rows)
    assert someone.styles[7] in missed[7]
    assert person(styles, missed, seed=1, saved=13, tested=40).test_rows.tolist() == someone.test_rows.tolist()
