"""The drawing report prints its tables from real (tiny) training runs on real drawings."""

import pytest

from dlapp.config import RunConfig
from dlapp.tools import handdrawn, sketches


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
