"""Experiment charts and report helpers: names are escaped for Plotly, best-so-far runs, CSV columns."""

from dlapp import experiment_plots
from dlapp.experiment_report import best_so_far, to_csv


def test_run_labels_are_escaped_in_legend_and_hover():
    figure = experiment_plots.experiment_curves([("#1 <b>bold</b>", [{"epoch": 0, "accuracy": 0.5}])], "accuracy")
    legend = [trace for trace in figure.data if trace.showlegend]
    assert legend[0].name == "#1 &lt;b&gt;bold&lt;/b&gt;"
    assert "<b>bold" not in legend[0].hovertemplate


def test_the_curve_title_is_two_short_lines_so_it_fits_a_phone():
    figure = experiment_plots.experiment_curves([("#1", [{"epoch": 0, "accuracy": 0.5}])], "accuracy")
    first, second = figure.layout.title.text.split("<br>")
    assert first == "Accuracy per epoch" and "validation solid, training dotted" in second
    assert figure.layout.margin.t > 40  # room for the second line


def test_word_settings_get_one_tick_per_value_and_log_ranges_are_drawn_as_log10():
    rows = [
        {"activation": "relu", "learning_rate": 0.001, "test accuracy": 0.9},
        {"activation": "<i>tanh</i>", "learning_rate": 0.1, "test accuracy": 0.5},
    ]
    figure = experiment_plots.parallel_coordinates(
        rows, ["activation", "learning_rate"], "test accuracy", ["learning_rate"]
    )
    activation, rate, score = figure.data[0].dimensions
    assert list(activation.ticktext) == ["&lt;i&gt;tanh&lt;/i&gt;", "relu"] and list(activation.values) == [1, 0]
    assert rate.label == "learning rate (log10)" and list(rate.values) == [-3.0, -1.0]
    assert list(score.values) == [0.9, 0.5]


def test_best_so_far_follows_the_direction():
    values = [(0, 0.5), (1, 0.7), (2, 0.6)]
    assert best_so_far(values, "maximize") == [0.5, 0.7, 0.7]
    assert best_so_far(values, "minimize") == [0.5, 0.5, 0.5]


def test_csv_columns_are_the_union_of_the_rows_keys():
    assert to_csv([{"run": 1, "loss": 0.5}, {"run": 2, "val_loss": 0.4}]) == "run,loss,val_loss\n1,0.5,\n2,,0.4\n"
