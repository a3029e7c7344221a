"""Report library parts that need no database: suppression, the URL fetcher, fonts, periods."""

from __future__ import annotations

import itertools

import pytest

from ai.reports.common import Period, PeriodError
from ai.reports.render import ReportRenderError, TemplateOnlyFetcher, html_to_pdf
from ai.reports.suppression import MARK, suppress, suppress_series
from tests.ai.report_checks import embedded_fonts, pdf_text


def _lines_safe(t) -> bool:  # type: ignore[no-untyped-def]
    """No printed total with exactly one hidden entry in its line (nothing recomputable)."""
    n_rows, n_cols = len(t.values), len(t.col_labels)
    for i in range(n_rows):
        entries = [t.hidden[i][j] for j in range(n_cols)] + [t.row_total_hidden[i]]
        if t.row_totals is not None and sum(entries) == 1:
            return False
    for j in range(n_cols):
        entries = [t.hidden[i][j] for i in range(n_rows)] + [t.col_total_hidden[j]]
        if t.col_totals is not None and sum(entries) == 1:
            return False
    return True


def test_a_small_cell_and_its_partners_are_hidden_so_totals_do_not_reveal_it() -> None:
    t = suppress([[3, 20, 30], [12, 40, 8], [15, 9, 22]], row_totals=True, col_totals=True,
                 row_labels=["a", "b", "c"], col_labels=["x", "y", "z"])
    assert t.cell(0, 0) is None and t.primary == 1 and t.secondary >= 2
    assert sum(row.count(True) for row in t.hidden) >= 3
    assert _lines_safe(t)
    assert t.cell(1, 1) == 40  # unrelated large cells stay visible


def test_zero_cells_stay_visible_and_a_small_total_is_hidden() -> None:
    t = suppress([[0], [2], [30]], col_totals=True)
    assert t.cell(0, 0) == 0 and t.cell(1, 0) is None
    assert t.col_total(0) is None or t.cell(2, 0) is None  # 2 = total − 30 − 0 must not be recomputable
    assert _lines_safe(t)


@pytest.mark.parametrize("seed", range(30))
def test_random_tables_are_always_safe(seed: int) -> None:
    import random

    rng = random.Random(seed)
    values = [[rng.choice([0, 1, 2, 4, 5, 7, 12, 40]) for _ in range(4)] for _ in range(3)]
    t = suppress(values, row_totals=True, col_totals=True)
    assert _lines_safe(t)
    for i, j in itertools.product(range(3), range(4)):
        if 0 < values[i][j] < 5:
            assert t.cell(i, j) is None


def test_people_decide_suppression_when_values_are_not_head_counts() -> None:
    t = suppress([[40, 9]], people=[[3, 9]], row_totals=True)
    assert t.cell(0, 0) is None and t.cell(0, 1) is None  # 40 attempts by 3 people; 9 hidden as its partner
    assert suppress_series([1, 0, 7], people=[1, 0, 7]) == [None, 0.0, 7.0]


def test_periods_parse_months_and_quarters() -> None:
    q = Period.parse("2026-Q3")
    assert (q.start.isoformat(), q.end.isoformat(), q.kind, len(q.months)) == ("2026-07-01", "2026-10-01", "quarter", 3)
    assert Period.parse("2026-10").label_ko == "2026년 10월"
    assert [m.month for m in Period.parse("2026-02").trailing_months(3)] == [12, 1, 2]
    with pytest.raises(PeriodError):
        Period.parse("2026-13")


@pytest.mark.parametrize("resource", [
    '<img src="http://example.com/logo.png">',
    '<img src="https://example.com/logo.png">',
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="../../../../../etc/passwd">',
    '<link rel="stylesheet" href="file:///etc/hostname">',
])
def test_the_fetcher_refuses_the_network_and_files_outside_the_templates(resource: str) -> None:
    fetcher = TemplateOnlyFetcher()
    with pytest.raises(ReportRenderError, match="refused"):
        html_to_pdf(f"<html><body><p>가</p>{resource}</body></html>", fetcher)
    assert fetcher.refused


def test_templates_fonts_come_from_the_package_and_korean_text_extracts() -> None:
    html = ('<html><head><link rel="stylesheet" href="style.css"></head><body><h1>의성군 보고서</h1>'
            '<p>참여자 1,234명</p></body></html>')
    fetcher = TemplateOnlyFetcher()
    pdf = html_to_pdf(html, fetcher)
    assert any(path.endswith("NanumGothic.ttf") for path in fetcher.served) and not fetcher.refused
    text = pdf_text(pdf.pdf)
    assert "의성군 보고서" in text and "참여자 1,234명" in text
    assert any("NanumGothic" in name for name in embedded_fonts(pdf.pdf))
    assert MARK == "X"
