"""Small-count suppression for published tables, with complementary suppression checked exactly.

A published table has its cells, row totals, column totals and grand total. Every published
number below the threshold (default 10, zero included) is shown as "<10" (primary suppression).
A reader who knows the threshold then knows each such cell lies in [0, threshold-1], and can
subtract the published numbers of a row or column from its total: a row with one hidden cell
gives it away. So further cells are withheld (complementary suppression, shown as "x"): a reader
knows only that such a cell is at least the threshold, since only cells at or above it are ever
chosen.

The check is exact, not a rule of thumb. Flip the sign of every total except the grand total and
every row and column of the extended table sums to zero; the changes to hidden cells that keep
every published number are then exactly the circulations in the bipartite graph of rows and
columns whose edges are the hidden cells, each edge bounded by how far its cell may move within
what the reader knows. How far a hidden cell can rise (or fall) is a maximum flow around that
graph; a cell is recovered when it can do neither. ``suppress`` withholds more cells until no
hidden cell is recovered, and ``intervals`` returns each hidden cell's range as a reader can work
it out (``tests/metrics/test_suppression.py`` recomputes those ranges with a linear-programming
solver and finds them equal).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 10
_INF = 10**15
Cell = tuple[int, int]


@dataclass(frozen=True)
class Table:
    """``cells[i][j]`` for row label ``rows[i]`` and column label ``cols[j]``; no totals."""

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, rows: Sequence[str], cols: Sequence[str], cells: Sequence[Sequence[int]]) -> Table:
        if len(cells) != len(rows) or any(len(r) != len(cols) for r in cells):
            raise ValueError("cells do not match the labels")
        if any(v < 0 for r in cells for v in r):
            raise ValueError("counts are never negative")
        return cls(tuple(rows), tuple(cols), tuple(tuple(int(v) for v in r) for r in cells))

    def extended(self) -> list[list[int]]:
        """The cells with a totals column, a totals row and the grand total (bottom right)."""
        body = [[*r, sum(r)] for r in self.cells]
        width = len(self.cols) + 1
        body.append([sum(r[j] for r in body) for j in range(width)])
        return body


@dataclass(frozen=True)
class Published:
    table: Table
    threshold: int
    values: tuple[tuple[int, ...], ...]  # extended table
    primary: frozenset[Cell]
    complementary: frozenset[Cell]

    @property
    def hidden(self) -> frozenset[Cell]:
        return self.primary | self.complementary

    def shown(self, i: int, j: int) -> str:
        if (i, j) in self.primary:
            return f"<{self.threshold}"
        if (i, j) in self.complementary:
            return "x"
        return str(self.values[i][j])

    def grid(self) -> list[list[str]]:
        """What is published, extended table shape (totals last)."""
        return [[self.shown(i, j) for j in range(len(row))] for i, row in enumerate(self.values)]


def _bounds(value: int, primary: bool, threshold: int) -> tuple[int, int]:
    """How far the reader allows a hidden cell to rise and fall from ``value``."""
    if primary:
        return threshold - 1 - value, value
    return _INF, value - threshold


def _sign(cell: Cell, last_row: int, last_col: int) -> int:
    i, j = cell
    return -1 if (i == last_row) != (j == last_col) else 1


def _max_flow(arcs: dict[tuple[int, int], int], source: int, sink: int, limit: int) -> int:
    """Edmonds-Karp on a small graph (nodes are ints); stops once ``limit`` is reached."""
    residual = dict(arcs)
    adjacent: dict[int, set[int]] = {}
    for a, b in arcs:
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)
        residual.setdefault((b, a), 0)
    flow = 0
    while flow < limit:
        parent = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            node = queue.popleft()
            for nxt in adjacent.get(node, ()):
                if nxt not in parent and residual[(node, nxt)] > 0:
                    parent[nxt] = node
                    queue.append(nxt)
        if sink not in parent:
            break
        push, node = limit - flow, sink
        while node != source:
            push = min(push, residual[(parent[node], node)])
            node = parent[node]
        node = sink
        while node != source:
            residual[(parent[node], node)] -= push
            residual[(node, parent[node])] += push
            node = parent[node]
        flow += push
    return flow


def intervals(
    values: Sequence[Sequence[int]],
    primary: frozenset[Cell],
    hidden: frozenset[Cell],
    threshold: int,
) -> dict[Cell, tuple[int, int]]:
    """Each hidden cell's range as a reader can work it out from everything published."""
    last_row, last_col = len(values) - 1, len(values[0]) - 1
    col_node = len(values)  # rows are nodes 0..last_row, columns col_node + j

    def arcs_without(skip: Cell) -> dict[tuple[int, int], int]:
        arcs: dict[tuple[int, int], int] = {}
        for cell in hidden:
            if cell == skip:
                continue
            up, down = _bounds(values[cell[0]][cell[1]], cell in primary, threshold)
            if _sign(cell, last_row, last_col) < 0:
                up, down = down, up
            r, c = cell[0], col_node + cell[1]
            arcs[(r, c)] = arcs.get((r, c), 0) + up
            arcs[(c, r)] = arcs.get((c, r), 0) + down
        return arcs

    found: dict[Cell, tuple[int, int]] = {}
    for cell in sorted(hidden):
        value = values[cell[0]][cell[1]]
        up, down = _bounds(value, cell in primary, threshold)
        sign = _sign(cell, last_row, last_col)
        y_up, y_down = (up, down) if sign > 0 else (down, up)
        arcs = arcs_without(cell)
        r, c = cell[0], col_node + cell[1]
        rise = _max_flow(arcs, c, r, y_up) if y_up > 0 else 0  # back round the cycle: c -> r
        fall = _max_flow(arcs, r, c, y_down) if y_down > 0 else 0
        x_up, x_down = (rise, fall) if sign > 0 else (fall, rise)
        found[cell] = (value - x_down, value + x_up if x_up < _INF // 2 else _INF)
    return found


def recovered(published: Published) -> list[Cell]:
    """Hidden cells whose value a reader can work out exactly (``suppress`` leaves none)."""
    ranges = intervals(published.values, published.primary, published.hidden, published.threshold)
    return [cell for cell, (lo, hi) in ranges.items() if lo == hi]


def suppress(table: Table, threshold: int = DEFAULT_THRESHOLD) -> Published:
    """Hide every number below ``threshold`` and then enough others that none can be recovered.

    One-column tables publish the row totals as the cells themselves, so a row's total is hidden
    exactly when its cell is.
    """
    if threshold < 1:
        raise ValueError("the threshold is at least 1")
    values = table.extended()
    height, width = len(values), len(values[0])
    primary = frozenset(
        (i, j) for i in range(height) for j in range(width) if values[i][j] < threshold
    )
    mirrored = len(table.cols) == 1

    def closure(cells: set[Cell]) -> set[Cell]:
        if mirrored:
            cells |= {(i, 1 - j) for i, j in cells if j < 2}
        return cells

    hidden = closure(set(primary))
    complementary = hidden - primary
    while True:
        ranges = intervals(values, primary, frozenset(hidden), threshold)
        exact = sorted(cell for cell, (lo, hi) in ranges.items() if lo == hi)
        if not exact:
            break
        target = exact[0]
        # The grand total comes last: it is shared by every table of a report, so hiding it in
        # one table but not another would undo the hiding.
        grand = (height - 1, width - 1)
        candidates = sorted(
            (
                ((i, j) == grand, values[i][j], (i, j))
                for i in range(height)
                for j in range(width)
                if (i, j) not in hidden and (i == target[0] or j == target[1])
            ),
        )
        if not candidates:  # the whole line is hidden already: widen with any cell
            candidates = sorted(
                ((i, j) == grand, values[i][j], (i, j))
                for i in range(height)
                for j in range(width)
                if (i, j) not in hidden
            )
        if not candidates:
            break  # everything is hidden; nothing more can be done (a test covers it)
        added = _cheapest_cover(values, primary, hidden, target, candidates, closure, threshold)
        hidden |= added
        complementary |= added - primary
    return Published(
        table=table,
        threshold=threshold,
        values=tuple(tuple(r) for r in values),
        primary=primary,
        complementary=frozenset(complementary),
    )


def _cheapest_cover(
    values: list[list[int]],
    primary: frozenset[Cell],
    hidden: set[Cell],
    target: Cell,
    candidates: list[tuple[bool, int, Cell]],
    closure: Callable[[set[Cell]], set[Cell]],
    threshold: int,
) -> set[Cell]:
    """The fewest, then smallest, further cells that make ``target`` unrecoverable: one cell in
    its row or column, else a rectangle's other three corners; else the smallest candidate (the
    loop in ``suppress`` carries on from there)."""

    def frees(extra: set[Cell]) -> bool:
        trial = frozenset(closure(hidden | extra))
        lo, hi = intervals(values, primary, trial, threshold)[target]
        return lo != hi

    for _grand, _value, cell in candidates:
        if frees({cell}):
            return closure({cell})
    ti, tj = target
    best: tuple[int, set[Cell]] | None = None
    for i in range(len(values)):
        for j in range(len(values[0])):
            if i == ti or j == tj or (i, j) == (len(values) - 1, len(values[0]) - 1):
                continue
            corners = {(ti, j), (i, tj), (i, j)} - hidden
            cost = sum(values[a][b] for a, b in corners)
            if best is not None and (len(corners), cost) >= (len(best[1]), best[0]):
                continue
            if frees(corners):
                best = (cost, corners)
    if best is not None:
        return closure(best[1])
    return closure({candidates[0][2]})
