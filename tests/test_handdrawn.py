"""The drawing report prints its tables from real (tiny) training runs on real drawings."""

import numpy as np
import pytest

from dlapp.config import RunConfig
from dlapp.tools import drawing_eval, handdrawn, sketches


@pytest.mark.slow
def test_report_prints_mean_and_worst_per_model_digit_and_confusions(monkeypatch, capsys):
    monkeypatch.setitem(sketches.PENDIGITS_ROWS, "dev", slice(0, 30))
    small = (sketches.procedural("dev", per_seed=15), sketches.pendigits("dev"))
    monkeypatch.setattr(handdrawn, "drawing_sets", lambda part: small)
    tiny = RunConfig().replace(arch="cnn", conv_filters=(8,), dense_units=16, epochs=1, train_subset=400)
    monkeypatch.setattr(handdrawn, "CANDIDATES", {"tiny CNN": tiny, "tiny augmented": tiny.replace(augment=True)})
    handdrawn.main(["--seeds", "2", "--part", "dev"])
    out = capsys.readouterr().out
    assert "30 procedural dev, 30 pendigits dev" in out and "training seeds [1, 2]" in out
    rows = [line for line in out.splitlines() if line.startswith("| tiny")]
    assert len(rows) == 2 + 2 * 2  # summary rows, then per digit for each model and set
    assert rows[0].count("%") == 2 * 4  # mean (worst) for sample test, two drawing sets, plain resize
    assert "Most frequent mistakes" in out and "canvas -> probabilities" in out and "Machine:" in out
    assert "by drawing style" in out


class _AlwaysZero:
    """A model that reads every image as 0: enough to check how mistakes are counted."""

    input_shape = (None, 28, 28, 1)

    def predict(self, images, batch_size=None, verbose=0):
        return np.tile(np.eye(10)[0], (len(images), 1))


def test_mistakes_are_counted_by_drawing_style_and_averaged_over_seeds():
    images = np.zeros((3, 28, 28), np.float32)
    drawings = sketches.DrawingSet(
        "procedural dev", images, images, np.array([0, 6, 6]), ("0 oval", "6 big loop", "6 curve")
    )
    scored = drawing_eval.score(_AlwaysZero(), drawings)
    assert scored.kind_confusions == {("6 big loop", 0): 1, ("6 curve", 0): 1}
    assert scored.confusions == {(6, 0): 2}
    assert drawing_eval.worst_pairs([scored, scored], by_kind=True)[0] == (("6 big loop", 0), 1.0)
