"""Parameter sets, walk-forward windows, executor names and ``--grid`` parsing."""
from __future__ import annotations

import numpy as np
import pytest

from barter.errors import ConfigError
from barter.sweep import (DaskExecutor, ProcessExecutor, RayExecutor, SerialExecutor, grid, param_list,
                          random_search, resolve, windows)
from barter.sweep.command import parse_grid
from barter.sweep.params import param_sets


def test_grid_is_every_combination_last_axis_fastest() -> None:
    assert grid({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


def test_numpy_values_become_python_numbers() -> None:
    [first, _] = grid({"a": np.arange(2)})
    assert type(first["a"]) is int


@pytest.mark.parametrize("axes, message", [
    ({}, "non-empty mapping"), ({"a": []}, "has no values"), ({"a": "123"}, "list of values"),
    ({"not a name": [1]}, "identifiers"), ({"a": 3}, "list of values")])
def test_bad_grids_name_the_problem(axes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        grid(axes)


def test_a_list_of_sets_is_checked_and_copied() -> None:
    given = [{"a": 1}, {"a": 2, "b": 3}]
    sets = param_list(given)
    assert sets == given and sets[0] is not given[0]
    with pytest.raises(ConfigError, match="parameter set 1"):
        param_list([{"a": 1}, 5])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="no parameter sets"):
        param_list([])


def test_param_sets_tells_a_grid_from_a_list() -> None:
    assert param_sets({"a": [1, 2]}) == [{"a": 1}, {"a": 2}]
    assert param_sets([{"a": 5}]) == [{"a": 5}]
    with pytest.raises(ConfigError, match="grid"):
        param_sets("a=1")  # type: ignore[arg-type]


def test_random_search_is_reproducible_and_in_range() -> None:
    space = {"n": (5, 9), "x": (0.1, 0.2), "c": ["p", "q"], "f": lambda rng: 7}
    sets = random_search(space, 200, seed=3)
    assert sets == random_search(space, 200, seed=3) and sets != random_search(space, 200, seed=4)
    assert {s["n"] for s in sets} == {5, 6, 7, 8, 9} and all(type(s["n"]) is int for s in sets)
    assert all(0.1 <= s["x"] <= 0.2 and type(s["x"]) is float for s in sets)
    assert {s["c"] for s in sets} == {"p", "q"} and {s["f"] for s in sets} == {7}


@pytest.mark.parametrize("space, n, message", [
    ({"a": (3, 1)}, 2, "low <= high"), ({"a": (1, 2)}, 0, "n must be"), ({}, 2, "non-empty")])
def test_bad_random_spaces_are_rejected(space: dict, n: int, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        random_search(space, n)


def test_windows_tile_the_test_rows_and_train_just_before() -> None:
    ws = windows(100, train=30, test=20)
    assert [(w.train_start, w.train_stop, w.test_stop) for w in ws] == [(0, 30, 50), (20, 50, 70), (40, 70, 90)]
    assert all(w.test_start == w.train_stop for w in ws)
    anchored = windows(100, train=30, test=20, anchored=True)
    assert [w.train_start for w in anchored] == [0, 0, 0]
    assert [w.test_start for w in windows(100, train=30, test=20, step=25)] == [30, 55, 80]  # gaps between


@pytest.mark.parametrize("kwargs, message", [
    ({"train": 90, "test": 20}, "has 100"), ({"train": 0, "test": 20}, "train must be"),
    ({"train": 10, "test": 10, "step": -1}, "step must be"), ({"train": 10, "test": True}, "test must be"),
    ({"train": 30, "test": 20, "step": 10}, r"step \(10 rows\) must be >= test \(20 rows\)")])
def test_bad_windows_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        windows(100, **kwargs)


@pytest.mark.parametrize("name, kind", [
    (None, ProcessExecutor), ("process", ProcessExecutor), (3, ProcessExecutor), ("serial", SerialExecutor),
    ("ray", RayExecutor), ("ray://10.0.0.1:10001", RayExecutor), ("dask", DaskExecutor),
    ("tcp://10.0.0.1:8786", DaskExecutor), ("dask://10.0.0.1:8786", DaskExecutor)])
def test_executor_names(name: object, kind: type) -> None:
    assert isinstance(resolve(name), kind)


def test_addresses_reach_the_cluster_clients() -> None:
    assert resolve("ray://h:1").address == "ray://h:1"  # type: ignore[attr-defined]
    assert resolve("dask://h:2").client == "tcp://h:2"  # type: ignore[attr-defined]
    assert resolve(3).workers == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["spark", "", 0, True, 2.5])
def test_unknown_executors_list_the_choices(name: object) -> None:
    with pytest.raises(ConfigError):
        resolve(name) if name not in (0, True) else ProcessExecutor(name)  # type: ignore[arg-type]


def test_grid_arguments_are_typed() -> None:
    assert parse_grid(["p=7,14", "x=0.5,1e-3", "b=true,False", "s=a, b"]) == {
        "p": [7, 14], "x": [0.5, 0.001], "b": [True, False], "s": ["a", "b"]}
    for bad in ("p", "=1,2", "p=", "p=,"):
        with pytest.raises(ConfigError, match="NAME=V1,V2"):
            parse_grid([bad])
    with pytest.raises(ConfigError, match="twice"):
        parse_grid(["p=1", "p=2"])


def test_dask_runs_in_flight_per_thread_must_be_positive() -> None:
    assert DaskExecutor("tcp://h:1", per_thread=3).per_thread == 3
    with pytest.raises(ConfigError, match="per_thread"):
        DaskExecutor(None, per_thread=0)
