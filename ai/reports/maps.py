"""The region map: its real boundary (raw.regions.boundary_geojson), its neighbours, and where activity
happened, as grid cells rather than points.

Activity is aggregated to cells of about 1 km (GRID_DEG_LAT × GRID_DEG_LON) and a cell is drawn only
when at least MIN_PEOPLE different people were active in it, so no single person's whereabouts can
be read off the map. Boundaries are simplified once per process (`load_atlas`) for drawing speed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import shapely
from matplotlib.collections import PolyCollection
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.strtree import STRtree
from sqlalchemy import Connection, text

from ai.reports.charts import ACCENT, Chart, _figure, _svg
from ai.reports.suppression import MIN_COUNT

GRID_DEG_LAT = 0.01  # ≈ 1.1 km
GRID_DEG_LON = 0.0125  # ≈ 1.1 km at 36° N
SIMPLIFY_DEG = 0.0015  # ≈ 150 m: invisible at report scale, ~20× fewer vertices
MIN_PEOPLE = MIN_COUNT


@dataclass(frozen=True)
class Cell:
    lat: float
    lon: float
    people: int
    events: int


@dataclass
class Atlas:
    """Every 시군구 boundary, simplified, with a spatial index to find neighbours."""

    names: dict[str, str]
    shapes: dict[str, shapely.Geometry]
    codes: list[str]
    tree: STRtree

    def neighbours(self, code: str) -> list[str]:
        """Regions sharing a border with `code` (touching within ~100 m after simplification)."""
        target = self.shapes[code].buffer(0.001)
        hits = self.tree.query(target, predicate="intersects")
        return sorted(self.codes[k] for k in hits if self.codes[k] != code)


NEIGHBOURHOOD_DEG = 0.9  # candidate neighbours: centroids within this box (the largest 시군구 spans ~0.7°)
_SHAPES: dict[tuple[str, str], tuple[str, shapely.Geometry]] = {}  # (code, loaded_at) → (name, simplified)

Q_AROUND = """
select others.region_code, others.sgg_name, others.loaded_at::text as loaded_at
from raw.regions as others, raw.regions as target
where target.region_code = :code
  and abs(others.centroid_lat - target.centroid_lat) < :box and abs(others.centroid_lon - target.centroid_lon) < :box
"""


def load_atlas(conn: Connection, around: str) -> Atlas:
    """The boundaries of `around` and of the regions near it, from raw.regions, simplified.

    Simplified shapes are kept per process (keyed by code and load time), so a run over every 시군구
    parses each boundary once.
    """
    near = conn.execute(text(Q_AROUND), {"code": around, "box": NEIGHBOURHOOD_DEG}).all()
    if not near:
        raise LookupError(f"no boundary for region {around} in raw.regions")
    missing = [r.region_code for r in near if (r.region_code, r.loaded_at) not in _SHAPES]
    if missing:
        for r in conn.execute(text("select region_code, sgg_name, loaded_at::text as loaded_at, boundary_geojson "
                                   "from raw.regions where region_code = any(:codes)"), {"codes": missing}):
            geom = shape(_as_json(r.boundary_geojson)).simplify(SIMPLIFY_DEG, preserve_topology=True)
            _SHAPES[(r.region_code, r.loaded_at)] = (r.sgg_name, geom)
    pairs = [(r.region_code, *_SHAPES[(r.region_code, r.loaded_at)]) for r in near]
    codes = [code for code, _, _ in pairs]
    shapes = {code: geom for code, _, geom in pairs}
    return Atlas({code: name for code, name, _ in pairs}, shapes, codes, STRtree([shapes[c] for c in codes]))


def _as_json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


def _polygons(geom: shapely.Geometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def _draw(ax: Any, geoms: list[shapely.Geometry], face: str, edge: str, width: float, kx: float,
          zorder: float = 1) -> None:
    """Fill the polygons as one collection: no per-patch data limits (the view is set explicitly), one SVG group."""
    outlines = [[(x * kx, y) for x, y in poly.exterior.coords] for geom in geoms for poly in _polygons(geom)]
    if outlines:
        ax.add_collection(PolyCollection(outlines, facecolors=face, edgecolors=edge, linewidths=width,
                                         zorder=zorder), autolim=False)


def region_map(atlas: Atlas, code: str, cells: list[Cell], alt: str, *, width_mm: float = 165,
               height_mm: float = 120) -> Chart:
    """The region (filled), its neighbours (grey, named) and the activity cells (dots sized by people)."""
    return Chart(partial(_region_map, atlas, code, list(cells), width_mm, height_mm), alt)


def _region_map(atlas: Atlas, code: str, cells: list[Cell], width_mm: float, height_mm: float) -> str:
    region = atlas.shapes[code]
    lat0 = region.centroid.y
    kx = math.cos(math.radians(lat0))  # equirectangular: kilometres look like kilometres
    fig = _figure(width_mm, height_mm)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    minx, miny, maxx, maxy = region.bounds
    pad_x, pad_y = (maxx - minx) * 0.18, (maxy - miny) * 0.18
    view = shapely.box(minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y)
    # neighbours cut to just outside the view: what lies beyond the frame would only be invisible path nodes
    frame = view.buffer(max(pad_x, pad_y) * 0.2, join_style="mitre").bounds
    around = {other: shapely.clip_by_rect(atlas.shapes[other], *frame) for other in atlas.neighbours(code)}
    _draw(ax, [geom for geom in around.values() if not geom.is_empty], "#eef1f4", "#9aa5b1", 0.6, kx)
    for other, geom in around.items():
        label_at = geom.intersection(view)
        if not label_at.is_empty and label_at.area > view.area * 0.02:
            point = label_at.representative_point()
            ax.text(point.x * kx, point.y, atlas.names[other], ha="center", va="center", fontsize=7,
                    color="#6b7785")
    _draw(ax, [region], "#dcebf5", "#1f3f5b", 1.4, kx, zorder=2)
    if cells:
        biggest = max(c.people for c in cells)
        ax.scatter([c.lon * kx for c in cells], [c.lat for c in cells],
                   s=[18 + 140 * (c.people / biggest) for c in cells], color=ACCENT, alpha=0.72,
                   edgecolors="white", linewidths=0.6, zorder=5)
    point = region.representative_point()
    ax.text(point.x * kx, point.y, atlas.names[code], ha="center", va="center", fontsize=10, weight="bold",
            color="#1f3f5b", zorder=6, bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none",
                                              "alpha": 0.75})
    _scale_bar(ax, minx - pad_x * 0.6, miny - pad_y * 0.6, lat0, kx, maxx - minx)
    ax.set_xlim((minx - pad_x) * kx, (maxx + pad_x) * kx)
    ax.set_ylim(miny - pad_y, maxy + pad_y)
    ax.set_aspect("equal")
    return _svg(fig)


def _scale_bar(ax: Any, x: float, y: float, lat0: float, kx: float, span_deg: float) -> None:
    km_per_deg_lon = 111.32 * math.cos(math.radians(lat0))
    span_km = span_deg * km_per_deg_lon
    length_km = next((k for k in (1, 2, 5, 10, 20, 50) if k >= span_km / 6), 50)
    length_deg = length_km / km_per_deg_lon
    ax.plot([x * kx, (x + length_deg) * kx], [y, y], color="#333333", linewidth=2, solid_capstyle="butt")
    ax.text((x + length_deg / 2) * kx, y, f"{length_km} km", ha="center", va="bottom", fontsize=7, color="#333333")
