"""What an experiment will train, checked before anything is queued.

A grid is up to three settings, each with a list of values; every combination is one run.
A search is a space of ranges (`learning_rate=1e-4:1e-2:log`, `hidden_units=32:512`) and
choices (`activation=relu,tanh`) that Optuna samples from. Both are written the same way on
the command line and on the Experiments page, and both are validated here: every generated
config (for a search, every corner of the space) passes `RunConfig.validate()`, and every
setting applies to the architecture, or a ValueError says which setting and value are wrong.
No TensorFlow and no Optuna here.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from dlapp.config import ARCH_FIELDS, RunConfig, all_fields

MAX_RUNS = 64
MAX_GRID_SETTINGS = 3
AUGMENT_DETAILS = ("augment_shift", "augment_rotation", "augment_zoom")
OPTIMIZER_ONLY = {"momentum": "sgd", "weight_decay": "adamw"}  # settings one optimizer reads


# --- values written as text -------------------------------------------------------------


def split_assignment(text: str) -> tuple[str, str]:
    """'optimizer=sgd,adam' -> ('optimizer', 'sgd,adam'); the name may be written with dashes."""
    name, sep, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise ValueError(f"Write a setting as NAME=VALUES, like optimizer=sgd,adam; got {text!r}.")
    if name not in all_fields():
        known = ", ".join(sorted(all_fields()))
        raise ValueError(f"Unknown setting {name!r}; known settings are: {known}.")
    return name, values.strip()


def parse_value(name: str, text: str) -> Any:
    """One value of setting `name` from text: 'adam', '0.5', '64', 'true', '128-64' (layer sizes)."""
    field = all_fields()[name]
    default = RunConfig().flat()[name]
    text = text.strip()
    try:
        if "choices" in field.metadata:
            return text
        if isinstance(default, bool):
            return {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}[text.lower()]
        if field.metadata.get("items"):
            return [int(part) for part in text.replace(" ", "-").split("-") if part]
        number = float(text)
        return int(number) if isinstance(default, int) and number.is_integer() else number
    except (KeyError, ValueError):
        kind = _kind_words(name, default)
        raise ValueError(f"{name} takes {kind}; got {text!r}.") from None


def _kind_words(name: str, default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if all_fields()[name].metadata.get("items"):
        return "layer sizes joined by dashes, like 128-64"
    return "whole numbers" if isinstance(default, int) else "numbers"


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def settings_label(settings: dict[str, Any]) -> str:
    """'adam · dropout 0.5': a word setting (optimizer, activation) shows its value alone."""
    parts = []
    for name, value in settings.items():
        word = isinstance(value, str)
        parts.append(format_value(value) if word else f"{name.replace('_', ' ')} {format_value(value)}")
    return " · ".join(parts) or "base"


# --- which settings a config uses -------------------------------------------------------


def check_applies(name: str, config: RunConfig) -> None:
    """Raise ValueError when `config` would ignore setting `name` (so varying it would change nothing)."""
    arch, model_fields = config.model.arch, set(ARCH_FIELDS[config.model.arch])
    if name in OPTIMIZER_ONLY and config.train.optimizer != OPTIMIZER_ONLY[name]:
        only = OPTIMIZER_ONLY[name]
        raise ValueError(f"{name} applies only to the {only} optimizer, and this run uses {config.train.optimizer}.")
    if name in ("augment", *AUGMENT_DETAILS) and arch == "autoencoder":
        raise ValueError(f"{name} does not apply to the autoencoder, which trains without augmentation.")
    if name in AUGMENT_DETAILS and not config.model.augment:
        raise ValueError(f"{name} applies only with augment on; turn augment on in the base settings first.")
    is_model_field = name in {f for fields in ARCH_FIELDS.values() for f in fields}
    if is_model_field and name not in model_fields:
        uses = ", ".join(ARCH_FIELDS[arch])
        raise ValueError(f"{name} does not apply to the {arch} architecture; it uses {uses}.")


def _config_for(base: RunConfig, settings: dict[str, Any]) -> RunConfig:
    """The validated config of one combination; its error names the setting and the value."""
    config = base.replace(**settings).validate()
    for name in settings:
        check_applies(name, config)
    return config


# --- grids ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRun:
    settings: dict[str, Any]  # varied setting -> value (JSON types)
    config: RunConfig

    @property
    def label(self) -> str:
        return settings_label(self.settings)


def parse_grid(assignments: list[str]) -> dict[str, list[Any]]:
    """['optimizer=sgd,adam', 'dropout=0,0.5'] -> {'optimizer': ['sgd', 'adam'], 'dropout': [0, 0.5]}."""
    grid: dict[str, list[Any]] = {}
    for text in assignments:
        name, values = split_assignment(text)
        if name in grid:
            raise ValueError(f"{name} is varied twice; give all its values once, like {name}=a,b.")
        grid[name] = [parse_value(name, v) for v in values.split(",") if v.strip()]
    return grid


def plan_grid(base: RunConfig, grid: dict[str, list[Any]]) -> list[PlannedRun]:
    """Every combination of the grid's values as a validated run, in order; or one ValueError."""
    if not grid:
        raise ValueError("Vary at least one setting, like optimizer=sgd,adam.")
    if len(grid) > MAX_GRID_SETTINGS:
        raise ValueError(f"A grid varies at most {MAX_GRID_SETTINGS} settings; got {len(grid)} ({', '.join(grid)}).")
    for name, values in grid.items():
        if not values:
            raise ValueError(f"{name} has no values; give at least one, like {name}={_example(name)}.")
        repeated = next((v for v in values if values.count(v) > 1), None)
        if repeated is not None:
            raise ValueError(f"{name} lists {format_value(repeated)} twice; give each value once.")
    total = math.prod(len(values) for values in grid.values())
    if total > MAX_RUNS:
        sizes = " × ".join(f"{len(v)} {n}" for n, v in grid.items())
        raise ValueError(f"This grid makes {total} runs ({sizes}); at most {MAX_RUNS} are allowed, so drop values.")
    base.validate()
    runs = []
    for combination in itertools.product(*grid.values()):
        settings = dict(zip(grid, combination, strict=True))
        runs.append(PlannedRun(settings, _config_for(base, settings)))
    return runs


def _example(name: str) -> str:
    meta = all_fields()[name].metadata
    if "choices" in meta:
        return ",".join(meta["choices"][:2])
    default = RunConfig().flat()[name]
    return "true,false" if isinstance(default, bool) else f"{format_value(default)},..."


# --- search spaces ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One searched setting: a numeric range (`low`..`high`, maybe on a log scale) or a list of choices."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def is_int(self) -> bool:
        default = RunConfig().flat()[self.name]
        return not self.choices and (isinstance(default, (int, list)) and not isinstance(default, bool))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "low": self.low, "high": self.high, "log": self.log, "choices": list(self.choices)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Dimension:
        return cls(raw["name"], raw.get("low"), raw.get("high"), bool(raw.get("log")), tuple(raw.get("choices", ())))


def parse_dimension(text: str) -> Dimension:
    """'learning_rate=1e-4:1e-2:log', 'dropout=0:0.6', 'activation=relu,tanh'."""
    name, spec = split_assignment(text)
    meta = all_fields()[name].metadata
    if ":" not in spec:
        choices = tuple(parse_value(name, v) for v in spec.split(",") if v.strip())
        if not choices:
            raise ValueError(f"{name} has no values; give a range like {name}=LOW:HIGH or choices like a,b.")
        return Dimension(name, choices=choices)
    if "choices" in meta or isinstance(RunConfig().flat()[name], bool):
        raise ValueError(f"{name} takes choices, not a range; write {name}={_example(name)}.")
    parts = spec.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip().lower() != "log"):
        raise ValueError(f"Write a range as {name}=LOW:HIGH or {name}=LOW:HIGH:log; got {text!r}.")
    low, high = (_range_end(name, p) for p in parts[:2])
    return Dimension(name, low=low, high=high, log=len(parts) == 3)


def _range_end(name: str, text: str) -> float:
    value = parse_value(name, text)
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def settings_for(base: RunConfig, space: list[Dimension], sampled: dict[str, Any]) -> dict[str, Any]:
    """Sampled values as config settings; a searched layer size fills every layer of the base's list."""
    settings = {}
    for dim in space:
        value = sampled[dim.name]
        if not dim.choices and all_fields()[dim.name].metadata.get("items"):
            value = [int(value)] * len(getattr(base.model, dim.name))
        settings[dim.name] = value
    return settings


def check_space(base: RunConfig, space: list[Dimension], trials: int | None, minutes: float | None) -> None:
    """Raise one ValueError for a bad range or budget; every corner of the space must be a valid config."""
    if not space:
        raise ValueError("Search at least one setting, like learning_rate=1e-4:1e-2:log.")
    names = [dim.name for dim in space]
    repeated = next((n for n in names if names.count(n) > 1), None)
    if repeated:
        raise ValueError(f"{repeated} is searched twice; give one range or one list of choices for it.")
    for dim in space:
        _check_dimension(dim)
    _check_budget(trials, minutes)
    base.validate()
    corners = [dim.choices or (dim.low, dim.high) for dim in space]
    for combination in itertools.islice(itertools.product(*corners), 512):  # 512: enough to meet every choice
        _config_for(base, settings_for(base, space, dict(zip(names, combination, strict=True))))


def _check_dimension(dim: Dimension) -> None:
    if dim.choices:
        repeated = next((v for v in dim.choices if dim.choices.count(v) > 1), None)
        if repeated is not None:
            raise ValueError(f"{dim.name} lists {format_value(repeated)} twice; give each choice once.")
        return
    span = f"{format_value(dim.low)}:{format_value(dim.high)}"
    if dim.is_int and not all(float(v).is_integer() for v in (dim.low, dim.high)):
        raise ValueError(f"{dim.name} takes whole numbers; got the range {span}.")
    if dim.low >= dim.high:
        raise ValueError(f"{dim.name}'s range {span} has its low end at or above its high end; write LOW:HIGH.")
    if dim.log and dim.low <= 0:
        raise ValueError(f"{dim.name}'s log range {span} touches 0; a log scale needs both ends above 0.")


def _check_budget(trials: int | None, minutes: float | None) -> None:
    if trials is None and not minutes:
        raise ValueError("Give the search a budget: a number of trials, minutes, or both.")
    if trials is not None and not 1 <= trials <= MAX_RUNS:
        raise ValueError(f"trials must be from 1 to {MAX_RUNS}; got {trials}.")
    if minutes is not None and (not math.isfinite(minutes) or minutes < 0):
        raise ValueError(f"minutes must be 0 (no limit) or more; got {minutes:g}.")


def objective_of(config: RunConfig) -> tuple[str, str]:
    """(epoch log key, direction) a search optimises: validation accuracy up, or validation MSE down."""
    has_validation = config.data.validation_split > 0
    if config.is_classifier:
        return ("val_accuracy" if has_validation else "accuracy"), "maximize"
    return ("val_mse" if has_validation else "mse"), "minimize"
