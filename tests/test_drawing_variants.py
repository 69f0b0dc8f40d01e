"""The settings tried for the drawing goals are valid configs, and their table reads the JSON lines back."""

import json

import pytest

from dlapp.tools import drawing_variants


@pytest.mark.parametrize("name", list(drawing_variants.VARIANTS))
def test_every_variant_is_a_valid_cnn_config(name):
    config = drawing_variants.VARIANTS[name].validate()
    assert config.model.arch == "cnn"


def test_table_is_mean_and_worst_over_the_seeds_in_the_file(tmp_path, capsys):
    out = tmp_path / "rows.jsonl"
    rows = [
        dict(variant="default", seed=seed, seconds=30.0, load=[2.0, 2.0, 2.0], test=t, procedural=p, pendigits=0.7)
        for seed, t, p in ((1, 0.97, 0.95), (2, 0.96, 0.93))
    ]
    out.write_text("".join(json.dumps(row) + "\n" for row in rows))
    drawing_variants.main(["--table", "--out", str(out)])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| default"))
    assert "94.0% (93.0%)" in line and "96.5% (96.0%)" in line and "(2 seeds)" in line


def test_an_unknown_variant_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        drawing_variants.main(["nonsense"])
    assert stopped.value.code == 2 and "unknown variant 'nonsense'" in capsys.readouterr().err


def test_table_gives_the_big_loop_6s_read_as_0_per_seed(tmp_path, capsys):
    out = tmp_path / "rows.jsonl"
    row = dict(variant="cnn", seconds=30.0, load=[2.0] * 3, test=0.97, procedural=0.95, pendigits=0.7, val=0.97)
    out.write_text("".join(json.dumps({**row, "seed": s, "big_loop_6_as_0": n}) + "\n" for s, n in ((1, 28), (2, 30))))
    drawing_variants.main(["--table", "--out", str(out)])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| cnn"))
    assert "| 28/30 |" in line
