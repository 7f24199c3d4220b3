"""Small-count suppression: an attacker with a linear-programming solver recovers nothing.

For every published table the attacker knows every shown number, that each "<10" cell lies in
[0, 9], that each "x" cell is at least 10 (only such cells are ever withheld as complements),
and that every row, column and the grand total add up. For each hidden cell they minimise and
maximise it subject to exactly that (scipy's HiGHS); a cell is recovered when the two agree.
The same ranges must come out of the library's own max-flow check.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from scipy.optimize import linprog

from tipline.metrics.suppression import Published, Table, intervals, recovered, suppress


def attack(published: Published) -> dict[tuple[int, int], tuple[float, float]]:
    """Each hidden cell's [min, max] from the published table alone (LP relaxation, then the
    integer ranges are its ceiling/floor: the bounds are integral for these network matrices)."""
    grid = published.grid()
    height, width = len(grid), len(grid[0])
    t = published.threshold
    hidden = sorted(published.hidden)
    index = {cell: k for k, cell in enumerate(hidden)}
    bounds = [(0, t - 1) if cell in published.primary else (t, None) for cell in hidden]
    a_eq, b_eq = [], []

    def line(cells: list[tuple[int, int]], total: tuple[int, int]) -> None:
        row = np.zeros(len(hidden))
        rhs = 0.0
        for cell in cells:
            if cell in index:
                row[index[cell]] += 1
            else:
                rhs -= int(grid[cell[0]][cell[1]])
        if total in index:
            row[index[total]] -= 1
        else:
            rhs += int(grid[total[0]][total[1]])
        a_eq.append(row)
        b_eq.append(rhs)

    for i in range(height):
        line([(i, j) for j in range(width - 1)], (i, width - 1))
    for j in range(width):
        line([(i, j) for i in range(height - 1)], (height - 1, j))
    found = {}
    for cell, k in index.items():
        c = np.zeros(len(hidden))
        c[k] = 1
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert lo.status == 0, f"the published table is inconsistent at {cell}"
        top = float("inf") if hi.status == 3 else -hi.fun
        found[cell] = (round(lo.fun, 6), round(top, 6))
    return found


def assert_protected(published: Published) -> None:
    ranges = attack(published)
    for cell, (lo, hi) in ranges.items():
        value = published.values[cell[0]][cell[1]]
        assert lo <= value <= hi, "the truth must be feasible"
        assert hi - lo >= 1, f"cell {cell} ({value}) recovered: [{lo}, {hi}]"
    # Every number shown is the true number, and every cell below the threshold is hidden.
    for i, row in enumerate(published.grid()):
        for j, shown in enumerate(row):
            value = published.values[i][j]
            if value < published.threshold:
                assert shown == f"<{published.threshold}"
            elif shown != "x":
                assert shown == str(value)
    # The library's own check agrees with the solver's ranges.
    own = intervals(published.values, published.primary, published.hidden, published.threshold)
    for cell, (lo, hi) in ranges.items():
        own_hi = own[cell][1] if own[cell][1] < 10**14 else float("inf")
        assert (own[cell][0], own_hi) == (lo, hi)
    assert recovered(published) == []


TRICKY = {
    "one small cell in a large table": [[3, 20, 30], [15, 40, 12], [25, 11, 50]],
    "two small cells in one row": [[3, 4, 30], [15, 40, 12], [25, 11, 50]],
    "zeros on a diagonal (both corners at their floor)": [[0, 30, 30], [30, 0, 30], [30, 30, 30]],
    "a whole row below the threshold": [[1, 2, 3], [40, 50, 60], [70, 80, 90]],
    "a whole column of zeros": [[0, 20, 30], [0, 40, 12], [0, 11, 50]],
    "a total below the threshold": [[1, 2], [3, 1]],
    "cells at the threshold exactly (complements with no room to fall)": [
        [10, 10, 5],
        [10, 10, 10],
        [10, 10, 10],
    ],
    "nine-nine: small cells at the top of their range": [[9, 9, 40], [9, 9, 40], [40, 40, 40]],
    "one report in the whole period": [[0, 0], [1, 0], [0, 0]],
    "empty period": [[0, 0], [0, 0]],
    "single cell": [[4]],
    "single large cell": [[400]],
    "one column": [[3], [20], [30], [0]],
    "one row": [[3, 20, 30, 0]],
    "a bridge between two blocks": [
        [2, 50, 0, 0],
        [50, 3, 0, 0],
        [0, 0, 4, 50],
        [0, 0, 50, 5],
    ],
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_tables_hide_every_small_cell_for_good(name: str) -> None:
    cells = TRICKY[name]
    table = Table.of(
        [f"r{i}" for i in range(len(cells))], [f"c{j}" for j in range(len(cells[0]))], cells
    )
    assert_protected(suppress(table))


def test_one_small_cell_costs_only_a_rectangle() -> None:
    table = Table.of(["a", "b", "c"], ["x", "y", "z"], [[3, 20, 30], [15, 40, 12], [25, 11, 50]])
    published = suppress(table)
    assert len(published.hidden) == 4
    assert published.grid()[0][0] == "<10"


def test_without_complements_a_lone_small_cell_would_be_recovered() -> None:
    # The attack is real: primary suppression alone gives the cell away.
    table = Table.of(["a", "b"], ["x", "y"], [[3, 20], [15, 40]])
    values = table.extended()
    alone = Published(table, 10, tuple(map(tuple, values)), frozenset({(0, 0)}), frozenset())
    assert attack(alone)[(0, 0)] == (3, 3)
    assert recovered(alone) == [(0, 0)]


@pytest.mark.parametrize("seed", range(25))
def test_random_tables_are_protected(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test tables, not secrets
    height, width = rng.randint(1, 6), rng.randint(1, 5)
    cells = [
        [rng.choice([0, 1, 2, 5, 9, 10, 11, 14, 30, 120]) for _ in range(width)]
        for _ in range(height)
    ]
    table = Table.of([str(i) for i in range(height)], [str(j) for j in range(width)], cells)
    assert_protected(suppress(table, threshold=rng.choice([3, 5, 10])))


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Table.of(["a"], ["x"], [[-1]])
    with pytest.raises(ValueError, match="labels"):
        Table.of(["a", "b"], ["x"], [[1]])
    with pytest.raises(ValueError, match="threshold"):
        suppress(Table.of(["a"], ["x"], [[1]]), threshold=0)


def test_every_hidden_cell_of_every_small_table_is_protected() -> None:
    # Exhaustively: all 2x2 tables with cells from a set that straddles the threshold.
    for values in itertools.product([0, 4, 9, 10, 25], repeat=4):
        cells = [list(values[:2]), list(values[2:])]
        assert_protected(suppress(Table.of(["a", "b"], ["x", "y"], cells)))
