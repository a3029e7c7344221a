"""Small-cell suppression for statistics that leave the platform (PDFs, proposals).

Primary suppression hides every cell that stands for 1–4 people (the design's "fewer than 5").
Secondary suppression then hides further cells so that no hidden cell can be recomputed from the
totals printed with it: every additive line of the table (a row with its row total, a column with
its column total, the totals row with the grand total) must hide either nothing or at least two of
its entries. The second cell hidden is the smallest visible non-zero one in that line (the least
information lost), else the line's total.

Zero cells stay visible: they describe nobody, and hiding them would hide most of a small region's
tables without protecting anyone. A suppressed cell prints as "X" (the KOSIS convention for
비밀보호), explained by FOOTNOTE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_COUNT = 5
MARK = "X"
FOOTNOTE = (f"{MARK}: 5명 미만의 인원에 해당하는 칸과, 그 칸을 합계에서 역산할 수 있는 칸은 개인 식별을 막기 위해 "
            "공개하지 않습니다. 0은 해당 인원이 없음을 뜻합니다.")


@dataclass
class SuppressedTable:
    """A table ready to print: values with a mask of the hidden ones, and its (masked) totals.

    Rows and columns are labels; `values[i][j]` is the number shown in row i, column j.
    `row_totals`/`col_totals`/`grand_total` are None when the table prints no such total.
    """

    row_labels: list[str]
    col_labels: list[str]
    values: list[list[float]]
    hidden: list[list[bool]]
    row_totals: list[float] | None = None
    col_totals: list[float] | None = None
    grand_total: float | None = None
    row_total_hidden: list[bool] = field(default_factory=list)
    col_total_hidden: list[bool] = field(default_factory=list)
    grand_total_hidden: bool = False
    primary: int = 0  # cells hidden because they stand for fewer than MIN_COUNT people
    secondary: int = 0  # cells hidden so that a primary one cannot be recomputed

    @property
    def suppressed_count(self) -> int:
        return self.primary + self.secondary

    def cell(self, i: int, j: int) -> float | None:
        """The value, or None when hidden (what templates print as MARK)."""
        return None if self.hidden[i][j] else self.values[i][j]

    def row_total(self, i: int) -> float | None:
        if self.row_totals is None or self.row_total_hidden[i]:
            return None
        return self.row_totals[i]

    def col_total(self, j: int) -> float | None:
        if self.col_totals is None or self.col_total_hidden[j]:
            return None
        return self.col_totals[j]

    def total(self) -> float | None:
        return None if self.grand_total is None or self.grand_total_hidden else self.grand_total


def _is_small(count: float | None, min_count: int) -> bool:
    return count is not None and 0 < count < min_count


def suppress(values: Sequence[Sequence[float]], min_count: int = MIN_COUNT, *,
             people: Sequence[Sequence[float | None]] | None = None,
             row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
             row_totals: bool = False, col_totals: bool = False,
             row_total_people: Sequence[float | None] | None = None,
             col_total_people: Sequence[float | None] | None = None) -> SuppressedTable:
    """Suppress a 2-D table of counts (primary, then secondary until every line is safe).

    `people` gives the number of distinct people behind each cell when the shown value is not a head
    count (attempts, hours, stay days); primary suppression is decided on it. `row_totals` /
    `col_totals` add the margins that the table prints (computed here as sums, so they are additive);
    a margin that itself covers fewer than `min_count` people is hidden too (`row_total_people` /
    `col_total_people` give the people behind each margin when the values are not head counts).
    """
    grid = [[float(v) for v in row] for row in values]
    n_rows = len(grid)
    n_cols = len(grid[0]) if grid else 0
    basis = people if people is not None else grid
    hidden = [[_is_small(basis[i][j], min_count) for j in range(n_cols)] for i in range(n_rows)]
    primary = sum(row.count(True) for row in hidden)

    r_tot = [sum(row) for row in grid] if row_totals else None
    c_tot = [sum(grid[i][j] for i in range(n_rows)) for j in range(n_cols)] if col_totals else None
    g_tot = sum(r_tot) if (r_tot is not None and c_tot is not None) else None
    r_hidden = [False] * n_rows
    c_hidden = [False] * n_cols
    g_hidden = False
    if r_tot is not None:
        r_people = row_total_people if row_total_people is not None else (r_tot if people is None else None)
        if r_people is not None:
            r_hidden = [_is_small(r_people[i], min_count) for i in range(n_rows)]
            primary += r_hidden.count(True)
    if c_tot is not None:
        c_people = col_total_people if col_total_people is not None else (c_tot if people is None else None)
        if c_people is not None:
            c_hidden = [_is_small(c_people[j], min_count) for j in range(n_cols)]
            primary += c_hidden.count(True)

    table = SuppressedTable(list(row_labels or [str(i) for i in range(n_rows)]),
                            list(col_labels or [str(j) for j in range(n_cols)]), grid, hidden, r_tot, c_tot, g_tot,
                            r_hidden, c_hidden, g_hidden, primary=primary)
    table.secondary = _secondary(table)
    return table


# A line is a list of (value, getter, setter) for its parts, the total last (or no total).
_Slot = tuple[float, "_Get", "_Set"]


class _Get:
    def __init__(self, table: SuppressedTable, kind: str, i: int, j: int = 0) -> None:
        self.table, self.kind, self.i, self.j = table, kind, i, j

    def __call__(self) -> bool:
        t = self.table
        if self.kind == "cell":
            return t.hidden[self.i][self.j]
        if self.kind == "row":
            return t.row_total_hidden[self.i]
        if self.kind == "col":
            return t.col_total_hidden[self.i]
        return t.grand_total_hidden


class _Set(_Get):
    def __call__(self) -> bool:  # hides the slot; returns True
        t = self.table
        if self.kind == "cell":
            t.hidden[self.i][self.j] = True
        elif self.kind == "row":
            t.row_total_hidden[self.i] = True
        elif self.kind == "col":
            t.col_total_hidden[self.i] = True
        else:
            t.grand_total_hidden = True
        return True


def _lines(t: SuppressedTable) -> list[tuple[list[_Slot], _Slot | None]]:
    """Every additive line: its parts and its total (None when the table prints no total for it)."""
    n_rows, n_cols = len(t.values), len(t.col_labels)
    lines: list[tuple[list[_Slot], _Slot | None]] = []
    for i in range(n_rows):
        parts = [(t.values[i][j], _Get(t, "cell", i, j), _Set(t, "cell", i, j)) for j in range(n_cols)]
        total = (t.row_totals[i], _Get(t, "row", i), _Set(t, "row", i)) if t.row_totals is not None else None
        lines.append((parts, total))
    for j in range(n_cols):
        parts = [(t.values[i][j], _Get(t, "cell", i, j), _Set(t, "cell", i, j)) for i in range(n_rows)]
        total = (t.col_totals[j], _Get(t, "col", j), _Set(t, "col", j)) if t.col_totals is not None else None
        lines.append((parts, total))
    if t.row_totals is not None and t.col_totals is not None and t.grand_total is not None:
        grand = (t.grand_total, _Get(t, "grand", 0), _Set(t, "grand", 0))
        lines.append(([(t.row_totals[i], _Get(t, "row", i), _Set(t, "row", i)) for i in range(n_rows)], grand))
        lines.append(([(t.col_totals[j], _Get(t, "col", j), _Set(t, "col", j)) for j in range(n_cols)], grand))
    return lines


def _secondary(t: SuppressedTable) -> int:
    """Hide more until no line with a printed total hides exactly one entry; returns how many were hidden."""
    added = 0
    changed = True
    while changed:
        changed = False
        for parts, total in _lines(t):
            if total is None:
                continue  # without a printed total nothing can be recomputed from this line
            entries = [*parts, total]
            if sum(1 for _, is_hidden, _ in entries if is_hidden()) != 1:
                continue
            visible = [(value, hide) for value, is_hidden, hide in parts if not is_hidden() and value != 0]
            if visible:
                min(visible, key=lambda item: item[0])[1]()
            elif not total[1]():
                total[2]()
            else:  # only zeros are visible besides the hidden total: the total is 0 too, nothing to protect
                continue
            added += 1
            changed = True
    return added


def suppress_series(values: Sequence[float], min_count: int = MIN_COUNT, *,
                    people: Sequence[float | None] | None = None) -> list[float | None]:
    """A 1-D series printed without a total (a monthly trend): only primary suppression applies."""
    basis = people if people is not None else values
    return [None if _is_small(basis[k], min_count) else float(values[k]) for k in range(len(values))]


def fmt(value: float | None, digits: int = 0) -> str:
    """A number as the reports print it (thousands separators), or MARK when hidden."""
    if value is None:
        return MARK
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"
