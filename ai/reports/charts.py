"""Charts as SVG (matplotlib, Agg-free SVG backend), in NanumGothic, ready for an <img src="data:…">.

Hidden (suppressed) values are drawn as no bar / a gap in the line with the suppression mark at the
axis, never as zero: a reader must not mistake "not published" for "nobody".
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from functools import partial

import matplotlib

matplotlib.use("svg")  # no display, no raster backend: the reports embed vector charts

from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ai.reports import fonts
from ai.reports.suppression import MARK

PALETTE = ("#1f5f8b", "#e07b39", "#3c9d5d", "#8e5ea2", "#c44e52", "#7f7f7f")
ACCENT = "#1f5f8b"
MUTED = "#b8c4ce"
MM = 1 / 25.4  # inches per millimetre


class Chart:
    """An SVG chart and the alt text that says what it shows, drawn when its SVG is first needed.

    Gathering a document's context also yields its inputs hash; when the hash says the stored PDF is
    still current (ai.reports.index), the charts are never drawn.
    """

    __slots__ = ("_draw", "_svg", "alt")

    def __init__(self, draw: Callable[[], str] | str, alt: str) -> None:
        self._draw = None if isinstance(draw, str) else draw
        self._svg = draw if isinstance(draw, str) else None
        self.alt = alt

    @property
    def svg(self) -> str:
        if self._svg is None:
            assert self._draw is not None
            self._svg, self._draw = self._draw(), None
        return self._svg

    @property
    def data_url(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


def _figure(width_mm: float, height_mm: float, left_mm: float = 12, bottom_mm: float = 8) -> Figure:
    """A figure with fixed margins (no "tight" bounding box: that draws every chart twice)."""
    fonts.register_matplotlib()
    fig = plt.figure(figsize=(width_mm * MM, height_mm * MM))
    fig.subplots_adjust(left=left_mm / width_mm, right=1 - 3 / width_mm, bottom=bottom_mm / height_mm,
                        top=1 - 4 / height_mm)
    return fig


def _style(ax: plt.Axes, value_axis: str) -> None:
    """Light ink: no tick marks (labels only), gridlines along the value axis only, at most 5 of them.

    Every tick is an SVG group that the PDF renderer draws one by one, so fewer ticks also make a
    report faster to lay out and write.
    """
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#888888")
    ax.spines["bottom"].set_color("#888888")
    ax.tick_params(colors="#333333", labelsize=7.5, length=0, pad=3)
    ax.grid(axis=value_axis, color="#e6e6e6", linewidth=0.6)
    (ax.yaxis if value_axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(nbins=4))
    ax.set_axisbelow(True)


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def any_shown(values: Sequence[float | None]) -> bool:
    """False when every value is hidden or zero: such a chart would say nothing, the table says it instead."""
    return any(v for v in values)


def hbar(labels: Sequence[str], values: Sequence[float | None], unit: str, alt: str, *,
         width_mm: float = 160, highlight: int | None = None, digits: int = 0) -> Chart:
    """Horizontal bars, largest at the top of the input order; hidden values print MARK at the axis."""
    return Chart(partial(_hbar, list(labels), list(values), unit, width_mm, highlight, digits), alt)


def _hbar(labels: list[str], values: list[float | None], unit: str, width_mm: float, highlight: int | None,
          digits: int) -> str:
    height = max(28.0, 7.5 * len(labels) + 12)
    widest = max((len(label) for label in labels), default=2)
    fig = _figure(width_mm, height, left_mm=min(40.0, 4 + 3.2 * widest))
    ax = fig.add_subplot()
    _style(ax, "x")
    ax.xaxis.set_visible(False)  # every bar prints its value: an x axis would repeat it
    ax.spines["bottom"].set_visible(False)
    ax.grid(visible=False)
    positions = list(range(len(labels)))[::-1]
    shown = [v or 0.0 for v in values]
    colours = [ACCENT if (highlight is None or k == highlight) else MUTED for k in range(len(labels))]
    ax.barh(positions, shown, color=colours, height=0.62)
    top = max(shown) if shown and max(shown) > 0 else 1.0
    for pos, value in zip(positions, values, strict=True):
        text = MARK if value is None else (f"{value:,.{digits}f}" if digits else f"{round(value):,}")
        ax.text((value or 0) + top * 0.01, pos, f"{text}{'' if value is None else unit}", va="center",
                fontsize=7.5, color="#222222")
    ax.set_yticks(positions, labels)
    ax.set_xlim(0, top * 1.18)
    return _svg(fig)


def vbar(labels: Sequence[str], series: dict[str, Sequence[float | None]], unit: str, alt: str, *,
         width_mm: float = 165, height_mm: float = 58) -> Chart:
    """Grouped vertical bars (e.g. completed and failed missions per month)."""
    return Chart(partial(_vbar, list(labels), {k: list(v) for k, v in series.items()}, unit, width_mm, height_mm),
                 alt)


def _vbar(labels: list[str], series: dict[str, list[float | None]], unit: str, width_mm: float,
          height_mm: float) -> str:
    fig = _figure(width_mm, height_mm, left_mm=14, bottom_mm=8)
    ax = fig.add_subplot()
    _style(ax, "y")
    ax.set_ylim(bottom=0)
    count = max(1, len(series))
    width = 0.8 / count
    for k, (name, values) in enumerate(series.items()):
        xs = [i + (k - (count - 1) / 2) * width for i in range(len(labels))]
        ax.bar(xs, [v or 0.0 for v in values], width=width * 0.92, color=PALETTE[k % len(PALETTE)], label=name)
        for x, value in zip(xs, values, strict=True):
            if value is None:
                ax.text(x, 0, MARK, ha="center", va="bottom", fontsize=6.5, color="#c44e52")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel(unit, fontsize=7.5)
    if count > 1:
        ax.legend(fontsize=7, frameon=False, ncols=count, loc="upper left")
    ax.set_ylim(0, max([v or 0 for values in series.values() for v in values] + [1]) * 1.25)
    return _svg(fig)


def lines(labels: Sequence[str], series: dict[str, Sequence[float | None]], unit: str, alt: str, *,
          width_mm: float = 165, height_mm: float = 58) -> Chart:
    """Lines over time; a hidden month is a gap (and MARK under the axis), not a drop to zero."""
    return Chart(partial(_lines, list(labels), {k: list(v) for k, v in series.items()}, unit, width_mm, height_mm),
                 alt)


def _lines(labels: list[str], series: dict[str, list[float | None]], unit: str, width_mm: float,
           height_mm: float) -> str:
    fig = _figure(width_mm, height_mm, left_mm=14, bottom_mm=8)
    ax = fig.add_subplot()
    _style(ax, "y")
    for k, (name, values) in enumerate(series.items()):
        ys = [float("nan") if v is None else v for v in values]
        ax.plot(range(len(labels)), ys, marker="o", markersize=3, linewidth=1.6,
                color=PALETTE[k % len(PALETTE)], label=name)
        for x, value in enumerate(values):
            if value is None:
                ax.text(x, 0, MARK, ha="center", va="bottom", fontsize=6.5, color="#c44e52")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(unit, fontsize=7.5)
    if len(series) > 1:
        ax.legend(fontsize=7, frameon=False, ncols=len(series), loc="upper left")
    return _svg(fig)
