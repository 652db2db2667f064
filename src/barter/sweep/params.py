"""Parameter sets of a sweep: a grid, an explicit list, or random draws.

A parameter set is a dict of keyword arguments for the strategy factory. Values are plain Python
objects (NumPy scalars become ``int``/``float``) so that rows compare and pickle alike everywhere.
"""
from __future__ import annotations

from itertools import product
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from barter.errors import ConfigError

ParamSet = dict[str, Any]
ParamSpace = Union[Mapping[str, Sequence[Any]], Iterable[Mapping[str, Any]]]


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _check_name(name: Any) -> None:
    if not (isinstance(name, str) and name.isidentifier()):
        raise ConfigError(f"parameter names must be identifiers (keyword arguments), was {name!r}")


def _values(name: str, values: Any) -> list[Any]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise ConfigError(f"grid parameter {name!r} must be a list of values, was {values!r}")
    out = [_plain(v) for v in values]
    if not out:
        raise ConfigError(f"grid parameter {name!r} has no values")
    return out


def grid(axes: Mapping[str, Sequence[Any]]) -> list[ParamSet]:
    """Every combination of the axes' values, the last axis varying fastest.

    >>> grid({"a": [1, 2], "b": ["x", "y"]})
    [{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}, {'a': 2, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    """
    if not isinstance(axes, Mapping) or not axes:
        raise ConfigError(f"a grid is a non-empty mapping of parameter name to values, was {axes!r}")
    for name in axes:
        _check_name(name)
    names = list(axes)
    lists = [_values(n, axes[n]) for n in names]
    return [dict(zip(names, combo)) for combo in product(*lists)]


def param_list(sets: Iterable[Mapping[str, Any]]) -> list[ParamSet]:
    """An explicit list of parameter sets, checked and copied."""
    out = []
    for i, params in enumerate(sets):
        if not isinstance(params, Mapping):
            raise ConfigError(f"parameter set {i} must be a mapping of name to value, was {params!r}")
        for name in params:
            _check_name(name)
        out.append({k: _plain(v) for k, v in params.items()})
    if not out:
        raise ConfigError("the sweep has no parameter sets")
    return out


def param_sets(space: ParamSpace) -> list[ParamSet]:
    """A mapping of name to values is a grid; an iterable of mappings is a list of sets."""
    if isinstance(space, Mapping):
        return grid(space)
    if isinstance(space, (str, bytes)) or not isinstance(space, Iterable):
        raise ConfigError(f"params must be a grid (mapping) or a list of parameter sets, was {space!r}")
    return param_list(space)


def _draw(name: str, spec: Any, rng: np.random.Generator) -> Any:
    if callable(spec):
        return _plain(spec(rng))
    if isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(x, (int, float)) for x in spec):
        low, high = spec
        if not low <= high:
            raise ConfigError(f"random parameter {name!r}: range {spec!r} must have low <= high")
        if isinstance(low, int) and isinstance(high, int):
            return int(rng.integers(low, high, endpoint=True))
        return float(rng.uniform(low, high))
    choices = _values(name, spec)
    return choices[int(rng.integers(len(choices)))]


def random_search(space: Mapping[str, Any], n: int, seed: Optional[int] = None) -> list[ParamSet]:
    """``n`` parameter sets drawn at random (``numpy.random.default_rng(seed)``).

    Parameters
    ----------
    space : mapping
        Per parameter: a ``(low, high)`` tuple (ints: an integer in [low, high]; floats: uniform),
        a list of choices (uniform), or a callable ``f(rng) -> value``.
    n : int
        Number of sets (> 0); duplicates are possible.
    seed : int, optional
        The same seed gives the same sets.
    """
    if not isinstance(space, Mapping) or not space:
        raise ConfigError(f"a random search space is a non-empty mapping, was {space!r}")
    if not (isinstance(n, int) and not isinstance(n, bool) and n > 0):
        raise ConfigError(f"n must be an int > 0, was {n!r}")
    for name in space:
        _check_name(name)
    rng = np.random.default_rng(seed)
    draws: Callable[[], ParamSet] = lambda: {k: _draw(k, v, rng) for k, v in space.items()}  # noqa: E731
    return [draws() for _ in range(n)]


__all__ = ["ParamSet", "ParamSpace", "grid", "param_list", "param_sets", "random_search"]
