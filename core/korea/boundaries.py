"""The 시군구 themselves: VWorld 2026 boundaries, dissolved to local governments, with KOSTAT codes.

The VWorld file (the reference vintage) publishes 255 units: 일반구 such as 수원시 장안구 appear
instead of their parent 시, which is the local government and so the region grain. The parent
keeps the MOIS code with a 0 in the last digit (41111 → 41110). Boundaries of the 일반구 are
dissolved into their parent; every published unit is still kept in raw.region_units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.ops import nearest_points

from core.korea.common import CODE_SUCCESSION, SIDO_BY_CODE, SIDO_BY_KOSTAT, QuarantineEntry

BOUNDARIES_FILE = "sigg-boundaries.geojson"
KOSTAT_FILE = "skorea-municipalities-2018-topo-simple.json"
EARTH_RADIUS_KM = 6371.0072  # authalic radius: areas on the sphere equal those on the ellipsoid
SPECIAL_CODES = {"36110", "50110", "50130"}  # 세종 (no 시군구 below it), 제주 행정시 (not self-governing)
# 인천 남구 was renamed 미추홀구 on 2018-07-01; the 2018 KOSTAT map still has the old name.
KOSTAT_RENAMED = {("28", "미추홀구"): "남구"}


@dataclass(frozen=True)
class Unit:
    """One published boundary unit (시군구 or 일반구) of the VWorld file."""

    unit_code: str
    unit_name: str  # '수원시 장안구', '종로구'
    full_name: str  # '경기도 수원시 장안구'
    geometry: MultiPolygon
    position: str

    @property
    def is_general_gu(self) -> bool:
        """일반구: a "…시 …구" unit (수원시 장안구); by name, as 자치구 codes (11215) also end in 1-9."""
        parts = self.unit_name.split()
        return len(parts) == 2 and parts[0].endswith("시") and parts[1].endswith("구")

    @property
    def region_code(self) -> str:
        return self.unit_code[:4] + "0" if self.is_general_gu else self.unit_code

    @property
    def region_name(self) -> str:
        return self.unit_name.split()[0] if self.is_general_gu else self.unit_name


@dataclass
class Regions:
    """The region table, its units, and a spatial index for assigning points to regions."""

    table: pd.DataFrame  # columns of raw.regions
    units: pd.DataFrame  # columns of raw.region_units
    geometries: dict[str, MultiPolygon]
    quarantine: list[QuarantineEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.codes = list(self.geometries)
        self._tree = shapely.STRtree([self.geometries[c] for c in self.codes])
        self._by_name = {(r.sido_code, r.sgg_name): r.region_code for r in self.table.itertuples()}

    def code_for(self, sido_code: str, sgg_name: str) -> str | None:
        """The region code of a 시군구 named within its 시도 (reference-vintage names)."""
        return self._by_name.get((sido_code, sgg_name))

    def names(self) -> dict[str, tuple[str, str]]:
        return {r.region_code: (r.sido_code, r.sgg_name) for r in self.table.itertuples()}

    def locate(self, lats: np.ndarray, lons: np.ndarray, snap_km: float = 2.0) -> tuple[list[str | None],
                                                                                         list[float]]:
        """Region code of each point by point-in-polygon, and how far it was snapped (0 when inside).

        A point outside every polygon (a pier or beach beyond the simplified coastline) goes to the
        nearest region when that is within `snap_km`; otherwise it gets no region (None, distance nan).
        """
        points = shapely.points(lons, lats)
        found: list[str | None] = [None] * len(points)
        distance = [math.nan] * len(points)
        inside, tree_idx = self._tree.query(points, predicate="intersects")
        for i, t in sorted(zip(inside.tolist(), tree_idx.tolist(), strict=True),
                           key=lambda p: (p[0], self.codes[p[1]])):
            if found[i] is None:  # on a shared border: the lower code wins, deterministically
                found[i], distance[i] = self.codes[t], 0.0
        for i, point in enumerate(points):
            if found[i] is None:
                found[i], distance[i] = self._snap(point, snap_km)
        return found, distance

    def _snap(self, point: Point, snap_km: float) -> tuple[str | None, float]:
        max_degrees = snap_km / (111.32 * math.cos(math.radians(point.y)))  # generous in latitude
        candidates = self._tree.query(point, predicate="dwithin", distance=max_degrees)
        best: tuple[float, str] | None = None
        for t in candidates.tolist():
            near = nearest_points(self.geometries[self.codes[t]], point)[0]
            km = haversine_km(point.y, point.x, near.y, near.x)
            if km <= snap_km and (best is None or (km, self.codes[t]) < best):
                best = (km, self.codes[t])
        return (best[1], best[0]) if best else (None, math.nan)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def area_km2(geometry: Polygon | MultiPolygon) -> float:
    """Area on the sphere via Lambert's cylindrical equal-area projection (x = Rλ, y = R sin φ)."""
    projected = shapely.transform(geometry, lambda xy: np.column_stack(
        (np.radians(xy[:, 0]) * EARTH_RADIUS_KM, np.sin(np.radians(xy[:, 1])) * EARTH_RADIUS_KM)))
    return float(projected.area)


def as_multipolygon(geometry: shapely.Geometry) -> MultiPolygon:
    """Any polygonal result (Polygon, MultiPolygon, or a collection from a union) as a MultiPolygon."""
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    polygons = [p for g in getattr(geometry, "geoms", []) for p in as_multipolygon(g).geoms]
    return MultiPolygon(polygons)


def centroid(geometry: MultiPolygon) -> tuple[Point, str]:
    """A point that represents the region and lies in it.

    The area centroid when it falls inside; for ring-shaped or island regions where it falls
    outside, the centroid of the largest part, and failing that an interior point.
    """
    point = geometry.centroid
    if geometry.contains(point):
        return point, "area_centroid"
    largest = max(geometry.geoms, key=lambda g: g.area)
    if largest.contains(largest.centroid):
        return largest.centroid, "largest_part_centroid"
    return largest.representative_point(), "interior_point"


def read_units(data_dir: Path) -> tuple[list[Unit], list[QuarantineEntry]]:
    """Every feature of the VWorld file with a valid 5-digit code and a polygon geometry."""
    collection = orjson.loads((data_dir / BOUNDARIES_FILE).read_bytes())
    units: list[Unit] = []
    bad: list[QuarantineEntry] = []
    for i, feature in enumerate(collection["features"]):
        props = feature.get("properties") or {}
        position = f"features[{i}]"
        code, name, full = str(props.get("sig_cd", "")), props.get("sig_kor_nm"), props.get("full_nm")
        if not (len(code) == 5 and code.isdigit() and code[:2] in SIDO_BY_CODE and name and full):
            bad.append(QuarantineEntry(BOUNDARIES_FILE, position, "boundary unit without a valid code or "
                                       "name", orjson.dumps(props).decode()))
            continue
        geometry = as_multipolygon(shape(feature["geometry"]))
        if geometry.is_empty:
            bad.append(QuarantineEntry(BOUNDARIES_FILE, position, "boundary unit without a polygon",
                                       orjson.dumps(props).decode()))
            continue
        if not geometry.is_valid:
            geometry = as_multipolygon(shapely.make_valid(geometry, method="structure", keep_collapsed=False))
        units.append(Unit(code, name, full, geometry, position))
    return units, bad


def read_kostat_units(data_dir: Path) -> list[tuple[str, str, str]]:
    """(KOSTAT code, name, MOIS 시도 code) of the 2018 census map; geometry is not needed."""
    topo = orjson.loads((data_dir / KOSTAT_FILE).read_bytes())
    out = []
    for geometry in topo["objects"]["skorea_municipalities_2018_geo"]["geometries"]:
        props = geometry["properties"]
        sido = SIDO_BY_KOSTAT.get(props["code"][:2])
        if sido is not None:
            out.append((props["code"], props["name"], sido.code))
    return out


def kostat_codes(table: pd.DataFrame, kostat_units: list[tuple[str, str, str]]) -> dict[str, str]:
    """KOSTAT census code per region, matched by 시도 + name.

    The 2018 map writes 일반구 as '수원시장안구'; a parent 시 gets the code its 일반구 share
    (31011…31014 → 31010). 군위군 is looked up under 경상북도, where it was in 2018, and 미추홀구
    under its former name 남구.
    """
    former_sido = {new[:2]: old[:2] for old, new in CODE_SUCCESSION.items()}
    by_name = {(sido, name): code for code, name, sido in kostat_units}
    out: dict[str, str] = {}
    for row in table.itertuples():
        name = KOSTAT_RENAMED.get((row.sido_code, row.sgg_name), row.sgg_name)
        if row.region_code == "36110":
            name = "세종시"
        sidos = [row.sido_code] + ([former_sido[row.sido_code]] if row.region_code in CODE_SUCCESSION.values()
                                   else [])
        for sido in sidos:
            if (sido, name) in by_name:
                out[row.region_code] = by_name[(sido, name)]
                break
        else:
            parts = {code for code, kname, ksido in kostat_units if ksido == row.sido_code
                     and kname.startswith(name) and kname != name and kname.endswith("구")}
            prefixes = {code[:4] for code in parts}
            if parts and len(prefixes) == 1:
                out[row.region_code] = prefixes.pop() + "0"
    return out


def build_regions(data_dir: Path) -> Regions:
    """Dissolve the published units into the 시·군·자치구 (plus 세종 and the two 제주 행정시)."""
    units, bad = read_units(data_dir)
    by_region: dict[str, list[Unit]] = {}
    for unit in units:
        by_region.setdefault(unit.region_code, []).append(unit)
    published = {u.unit_code for u in units}
    rows = []
    geometries: dict[str, MultiPolygon] = {}
    for code, members in sorted(by_region.items()):
        general = [u for u in members if u.is_general_gu]
        if general and code in published:
            raise ValueError(f"{code} is published both as a 시 and through its 일반구; cannot dissolve")
        first = members[0]
        sido = SIDO_BY_CODE[code[:2]]
        geometry = dissolve([u.geometry for u in members])
        point, method = centroid(geometry)
        name = first.region_name
        rows.append({
            "region_code": code, "sido_code": sido.code, "sido_name": sido.name, "sgg_name": name,
            "full_name": sido.name if code == "36110" else f"{sido.name} {name}",
            "level": region_level(code, name), "centroid_lat": round(point.y, 6),
            "centroid_lon": round(point.x, 6), "centroid_method": method,
            "area_km2": round(area_km2(geometry), 3), "boundary_geojson": mapping(geometry),
            "source_codes": {"vworld_units": sorted(u.unit_code for u in members)},
        })
        geometries[code] = geometry
    table = pd.DataFrame(rows)
    kostat = kostat_codes(table, read_kostat_units(data_dir))
    table["kostat_code"] = table["region_code"].map(kostat)
    unit_table = pd.DataFrame([{"unit_code": u.unit_code, "region_code": u.region_code,
                                "unit_name": u.unit_name, "is_general_gu": u.is_general_gu}
                               for u in sorted(units, key=lambda u: u.unit_code)])
    return Regions(table, unit_table, geometries, bad)


def dissolve(parts: list[MultiPolygon]) -> MultiPolygon:
    """Union of 일반구 polygons, without the sliver gaps their separate simplification left between them.

    A hole of the union is filled unless it overlaps a hole one of the parts already had (such as
    the hole of 화성시 만세구 where 오산시 lies), which is a real enclave.
    """
    if len(parts) == 1:
        return parts[0]
    union = as_multipolygon(shapely.union_all(parts))
    own_holes = [Polygon(ring) for part in parts for polygon in part.geoms for ring in polygon.interiors]
    polygons = []
    for polygon in union.geoms:
        kept = [ring for ring in polygon.interiors
                if any(Polygon(ring).intersection(hole).area > 0 for hole in own_holes)]
        polygons.append(Polygon(polygon.exterior, kept))
    return MultiPolygon(polygons)


def region_level(code: str, name: str) -> str:
    """si | gun | gu | special (세종 and the 제주 행정시, which are not self-governing 시군구)."""
    if code in SPECIAL_CODES:
        return "special"
    return {"시": "si", "군": "gun", "구": "gu"}[name[-1]]

