"""The regional-data loader against the real public files: every quirk, and the load into PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import psycopg
import pytest
from shapely.geometry import LineString, Point, shape
from sqlalchemy import Engine

from core.korea import LoadSummary, load_all, read_all
from core.korea.boundaries import build_regions, haversine_km
from core.korea.checks import CHECKS
from core.korea.common import SIDOS, SuppressedValue, parse_count, read_csv_rows
from core.korea.decline import INDEX_FILE, listed_names, load_decline_areas
from core.korea.empty_houses import EMPTY_HOUSES_FILE, load_empty_houses
from core.korea.load import SOURCE_FILES, RegionalData, write_all
from core.korea.population import POPULATION_FILE, load_population
from core.settings import get_settings

DATA = get_settings().data_dir
DERIVED = DATA / "derived"


@pytest.fixture(scope="module")
def data() -> RegionalData:
    return read_all(DATA)


def _population(data: RegionalData, code: str, year: int, sex: str = "total", band: str = "total") -> int:
    t = data.tables["region_population"]
    row = t[(t.region_code == code) & (t.year == year) & (t.sex == sex) & (t.age_band == band)]
    assert len(row) == 1, (code, year, sex, band)
    return int(row.population.iloc[0])


def _empty(data: RegionalData, code: str, year: int, housing_type: str = "계") -> int:
    t = data.tables["empty_houses"]
    row = t[(t.region_code == code) & (t.year == year) & (t.housing_type == housing_type)]
    assert len(row) == 1, (code, year, housing_type)
    return int(row.empty_count.iloc[0])


def _linked_copy(tmp_path: Path) -> Path:
    """A data folder of symlinks to the real files, so one file can be replaced by a broken copy."""
    for item in DATA.iterdir():
        (tmp_path / item.name).symlink_to(item)
    return tmp_path


# ------------------------------------------------------------------------------ reading the files
def test_cp949_files_are_decoded_strictly() -> None:
    with pytest.raises(UnicodeDecodeError):
        read_csv_rows(DATA / POPULATION_FILE, "utf-8")
    header, rows = read_csv_rows(DATA / POPULATION_FILE, "cp949")
    assert header[0] == "행정구역" and header[1] == "2022년_거주자_총인구수"
    first = next(rows)
    assert first.line == 2 and first.cells[0].startswith("서울특별시")


def test_counts_with_thousands_separators() -> None:
    assert parse_count("9,355,332") == 9_355_332
    assert parse_count("0") == 0
    assert parse_count(" ") is None
    with pytest.raises(SuppressedValue):
        parse_count("X")
    for bad in ("12a", "1,23", "1.5"):
        with pytest.raises(ValueError):
            parse_count(bad)


def test_sido_table_agrees_with_the_kostat_province_map() -> None:
    topo = orjson.loads((DATA / "skorea-provinces-2018-topo-simple.json").read_bytes())
    provinces = {g["properties"]["code"]: g["properties"]["name"]
                 for g in topo["objects"]["skorea_provinces_2018_geo"]["geometries"]}
    assert provinces == {s.kostat_code: (s.old_names or (s.name,))[0] for s in SIDOS}


# ------------------------------------------------------------------------------ regions
def test_229_regions_with_general_gu_merged(data: RegionalData) -> None:
    regions, units = data.tables["regions"], data.tables["region_units"]
    assert len(regions) == 229 and regions.region_code.is_unique
    assert len(units) == 255 and int(units.is_general_gu.sum()) == 39
    mapped = dict(zip(units.unit_code, units.region_code, strict=True))
    assert mapped["41111"] == "41110" and mapped["41597"] == "41590" and mapped["48129"] == "48120"
    assert mapped["11215"] == "11215"  # 광진구 is a 자치구, although its code ends in 5
    assert not set(units.unit_code[units.is_general_gu]) & set(regions.region_code)
    assert regions.level.value_counts().to_dict() == {"gun": 82, "si": 75, "gu": 69, "special": 3}
    suwon = regions.set_index("region_code").loc["41110"]
    assert suwon.sgg_name == "수원시" and suwon.full_name == "경기도 수원시"
    assert suwon.source_codes["vworld_units"] == ["41111", "41113", "41115", "41117"]


def test_dissolved_boundaries_cover_their_units_without_gaps(data: RegionalData) -> None:
    regions = data.tables["regions"].set_index("region_code")
    suwon = shape(regions.loc["41110"].boundary_geojson)
    assert suwon.geom_type == "MultiPolygon" and suwon.is_valid
    assert sum(len(p.interiors) for p in suwon.geoms) == 0  # slivers between the 4 구 filled
    hwaseong = shape(regions.loc["41590"].boundary_geojson)
    osan = shape(regions.loc["41370"].boundary_geojson)
    assert not hwaseong.contains(osan.representative_point())  # the real enclave (오산시) stays a hole
    # the national land area is about 100,400 km²
    assert 99_000 < regions.area_km2.sum() < 101_500
    assert 118 < regions.loc["41110"].area_km2 < 124  # 수원시: 121 km²


def test_centroids_lie_inside_and_match_the_derived_file(data: RegionalData) -> None:
    regions = data.tables["regions"]
    derived = pd.read_csv(DERIVED / "sigungu_centroids_wgs84.csv", dtype={"sig_cd": str})
    merged = regions.merge(derived, left_on="region_code", right_on="sig_cd")
    assert len(merged) == 229 - 13  # the 13 parent 시 have no 1:1 unit in the derived file
    km = [haversine_km(a, b, c, d) for a, b, c, d in
          zip(merged.centroid_lat, merged.centroid_lon, merged.lat, merged.lon, strict=True)]
    merged["km"] = km
    assert merged.loc[merged.method == "area_centroid", "km"].max() < 0.1
    assert merged.km.max() < 2.0
    for row in regions.itertuples():
        inside = shape(row.boundary_geojson).contains(Point(row.centroid_lon, row.centroid_lat))
        assert inside, row.region_code
    assert set(regions.centroid_method) == {"area_centroid", "largest_part_centroid", "interior_point"}


def test_kostat_codes_matched_by_sido_and_name(data: RegionalData) -> None:
    kostat = dict(zip(data.tables["regions"].region_code, data.tables["regions"].kostat_code, strict=True))
    assert all(isinstance(v, str) for v in kostat.values())
    assert kostat["11110"] == "11010"  # 종로구
    assert kostat["41110"] == "31010"  # 수원시, from its 일반구 31011…31014
    assert kostat["28177"] == "23030"  # 미추홀구, 남구 in 2018
    assert kostat["27720"] == "37310"  # 군위군, under 경북 in 2018
    assert kostat["36110"] == "29010" and kostat["51110"] == "32010" and kostat["52800"] == "35380"
    assert len(set(kostat.values())) == 229


# ------------------------------------------------------------------------------ population
def test_population_has_three_years_for_every_region(data: RegionalData) -> None:
    t = data.tables["region_population"]
    assert len(t) == 229 * 3 * 3 * 22
    assert set(t.age_band) == {*(f"{a}-{a + 4}" for a in range(0, 100, 5)), "100+", "total"}
    per_region = t.groupby("region_code").year.nunique()
    assert (per_region == 3).all() and len(per_region) == 229
    assert not [q for q in data.quarantine if q.source == POPULATION_FILE]


def test_parent_cities_are_not_double_counted(data: RegionalData) -> None:
    # the 수원시 row, which equals the sum of its 4 일반구 rows (273,364 + 361,355 + 193,030 + 359,847)
    assert _population(data, "41110", 2024) == 1_187_596
    # 부천시 got 일반구 again in 2024; its own row is used, not the 구 rows on top of it
    assert _population(data, "41190", 2024) == 766_105
    totals = data.tables["region_population"].query("sex == 'total' and age_band == 'total'")
    assert totals.groupby("year").population.sum().to_dict() == {
        2022: 51_200_910, 2023: 51_090_859, 2024: 50_983_646}


def test_old_codes_carry_2022_and_2023(data: RegionalData) -> None:
    assert [_population(data, "51110", y) for y in (2022, 2023, 2024)] == [285_562, 285_328, 284_999]  # 춘천
    assert [_population(data, "52110", y) for y in (2022, 2023, 2024)] == [649_705, 641_091, 633_916]  # 전주
    assert [_population(data, "27720", y) for y in (2022, 2023, 2024)] == [23_283, 22_936, 22_408]  # 군위
    regions = data.tables["regions"].set_index("region_code")
    assert regions.loc["27720"].source_codes["population"] == ["2772000000", "4772000000"]
    codes = set(data.tables["region_population"].region_code)
    assert not {c for c in codes if c[:2] in {"42", "45"} or c == "47720"}


def test_population_bands_and_sexes_add_up(data: RegionalData) -> None:
    t = data.tables["region_population"]
    bands = t[t.age_band != "total"].groupby(["region_code", "year", "sex"]).population.sum()
    totals = t[t.age_band == "total"].set_index(["region_code", "year", "sex"]).population
    assert (bands == totals.loc[bands.index]).all()
    male, female = (_population(data, "47730", 2024, sex, "0-4") for sex in ("male", "female"))
    assert male + female == _population(data, "47730", 2024, "total", "0-4")


def test_population_row_that_does_not_add_up_is_quarantined(tmp_path: Path) -> None:
    folder = _linked_copy(tmp_path)
    (folder / POPULATION_FILE).unlink()
    text = (DATA / POPULATION_FILE).read_bytes().decode("cp949").splitlines()
    rows = list(csv.reader(text))
    jongno = next(i for i, r in enumerate(rows) if r[0].startswith("서울특별시 종로구"))
    rows[jongno][3] = "9,999"  # 2022 total residents aged 0-4
    with (folder / POPULATION_FILE).open("w", encoding="cp949", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    result = load_population(folder, build_regions(DATA))
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (f"line {jongno + 1}", "population does not add up")]
    assert "2022 total" in (result.quarantine[0].detail or "")
    assert set(result.table[result.table.region_code == "11110"].year) == {2023, 2024}


# ------------------------------------------------------------------------------ decline areas
def test_107_decline_areas_with_the_three_codes_corrected(data: RegionalData) -> None:
    t = data.tables["decline_areas"]
    assert len(t) == 107 and t.region_code.is_unique
    assert t.category.value_counts().to_dict() == {"decline": 89, "interest": 18}
    corrected = t[t.correction.notna()].set_index("sgg_name")
    assert corrected.region_code.to_dict() == {"영천시": "47230", "상주시": "47250", "문경시": "47280"}
    assert corrected.source_code.to_dict() == {"영천시": "47220", "상주시": "47230", "문경시": "47250"}
    assert corrected.correction.str.contains("PROVENANCE.md").all()
    assert set(t.region_code) <= set(data.tables["regions"].region_code)


def test_decline_areas_agree_with_the_official_lists_and_derived_file(data: RegionalData) -> None:
    t = data.tables["decline_areas"]
    for category, names in listed_names(DATA).items():
        assert set(zip(t[t.category == category].sido_name, t[t.category == category].sgg_name,
                       strict=True)) == names
    derived = pd.read_csv(DERIVED / "population_decline_areas_107.csv", dtype=str)
    category = derived.category.map({"인구감소지역": "decline", "인구감소관심지역": "interest"})
    assert set(zip(derived.sgg_cd, category, strict=True)) == set(zip(t.region_code, t.category, strict=True))
    assert "제2024-15호" in t[t.category == "decline"].notice.iloc[0]


def test_an_unknown_wrong_code_is_quarantined_not_guessed(tmp_path: Path) -> None:
    folder = _linked_copy(tmp_path)
    index = orjson.loads((DATA / INDEX_FILE).read_bytes())
    target = next(i for i, r in enumerate(index["regions"]) if r["name"] == "의성군")
    index["regions"][target]["lawdCd"] = "47750"  # 청송군's code
    (folder / INDEX_FILE).unlink()
    (folder / INDEX_FILE).write_bytes(orjson.dumps(index))
    result = load_decline_areas(folder, build_regions(DATA))
    assert len(result.table) == 106 and "47730" not in set(result.table.region_code)
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (f"regions[{target}]", "code does not match the named region")]


# ------------------------------------------------------------------------------ places
def test_festivals_without_coordinates_are_quarantined(data: RegionalData) -> None:
    festival_q = [q for q in data.quarantine if q.source == "전국문화축제표준데이터.csv"]
    no_coords = [q for q in festival_q if q.reason == "no valid WGS84 coordinates"]
    assert len(no_coords) == 228 and all(q.content and q.position.startswith("line ") for q in no_coords)
    festivals = data.tables["places"].query("kind == 'festival'")
    duplicates = sum(q.reason.startswith("duplicate festival") for q in festival_q)
    assert len(festivals) + len(no_coords) + duplicates == 1300
    assert festivals.starts_on.notna().all() and (festivals.ends_on >= festivals.starts_on).all()
    gumi = festivals[festivals.name == "구미라면축제"].iloc[0]
    assert str(gumi.starts_on) == "2026-11-06" and str(gumi.ends_on) == "2026-11-08"
    assert gumi.region_code == "47190"  # 구미시


def test_places_have_stable_unique_ids(data: RegionalData) -> None:
    places = data.tables["places"]
    assert places.place_id.is_unique
    assert places.kind.value_counts().to_dict() == {"heritage": 1338, "festival": 1062, "tourist_spot": 867}
    assert places.place_id.str.match(r"^(tourist_spot|festival):[0-9a-f]{16}$|^heritage:\d+$").all()
    again = read_all(DATA).tables["places"]
    assert list(again.place_id) == list(places.place_id)


def test_point_in_polygon_with_known_places(data: RegionalData) -> None:
    places = data.tables["places"].set_index("place_id")
    assert places.loc["heritage:1113700770000"].region_code == "47730"  # 의성 탑리리 오층석탑 → 의성군
    assert places.loc["heritage:1123706050000"].region_code == "47830"  # 고령 장기리 암각화 → 고령군
    located = places.region_code.notna().mean()
    assert located >= 0.99
    heritage = places[places.kind == "heritage"]
    names = data.tables["regions"].set_index("region_code").sgg_name
    with_sgg = heritage[heritage.attributes.map(lambda a: "ccsiName" in a) & heritage.region_code.notna()]
    agree = sum(names[c] == a["ccsiName"]
                for c, a in zip(with_sgg.region_code, with_sgg.attributes, strict=True))
    assert agree / len(with_sgg) > 0.98  # the heritage office's own 시군구 name agrees with the polygon


def test_points_beyond_the_coastline_snap_within_2_km() -> None:
    regions = build_regions(DATA)
    gangneung = regions.geometries["51150"]
    across = gangneung.intersection(LineString([(128.5, 37.8), (129.5, 37.8)]))  # near 경포해변
    shore = across.bounds[2]  # where 강릉 ends going east along 37.8°N: the shoreline
    just_off, far_off = (shore + 0.005, 37.8), (shore + 0.5, 37.8)
    assert not gangneung.contains(Point(just_off))
    codes, km = regions.locate(np.array([just_off[1], far_off[1], 37.75]),
                               np.array([just_off[0], far_off[0], 128.88]))
    assert codes[0] == "51150" and 0 < km[0] < 2
    assert codes[1] is None and np.isnan(km[1])
    assert codes[2] == "51150" and km[2] == 0  # 강릉 city centre, inside


def test_places_outside_every_region_keep_a_null_region_and_a_note(data: RegionalData) -> None:
    places = data.tables["places"]
    unplaced = places[places.region_code.isna()]
    notes = [q for q in data.quarantine if q.reason == "place outside every region boundary"]
    assert len(unplaced) == len(notes) > 0
    assert {q.detail.split()[0] for q in notes if q.detail} == set(unplaced.place_id)
    snapped = places.attributes.map(lambda a: a.get("region_snapped_km"))
    assert snapped.notna().any() and snapped.dropna().between(0, 2).all()


def test_duplicate_tourist_spots_keep_the_newest_record(data: RegionalData) -> None:
    spots = data.tables["places"].query("kind == 'tourist_spot'")
    scissors = spots[spots.name == "가위박물관"]
    assert len(scissors) == 1 and scissors.iloc[0].attributes["데이터기준일자"] == "2023-12-01"
    dup = [q for q in data.quarantine if q.reason.startswith("duplicate tourist spot")]
    assert len(dup) == 57
    assert any(q.position == "line 440" and q.detail == "same as line 169, which was kept" for q in dup)


def test_heritage_adds_the_sites_only_re_heritage_has(data: RegionalData) -> None:
    heritage = data.tables["places"].query("kind == 'heritage'")
    assert heritage.source_file.value_counts().to_dict() == {"heritage.csv": 1328, "re_heritage.csv": 10}
    assert heritage[heritage.source_file == "heritage.csv"].description.notna().sum() >= 1327
    silsangsa = heritage.set_index("place_id").loc["heritage:1123500410000"]  # 남원 실상사 철조여래좌상
    assert silsangsa.region_code == "52190" and silsangsa.source_file == "re_heritage.csv"


# ------------------------------------------------------------------------------ empty houses
def test_empty_houses_resolve_duplicate_names_by_sido_order(data: RegionalData) -> None:
    assert _empty(data, "11140", 2022) == 1583  # 중구 after 서울특별시
    assert _empty(data, "26110", 2022) == 2727  # 중구 after 부산광역시
    assert _empty(data, "27200", 2022) == 1888  # 남구 after 대구광역시
    assert _empty(data, "47110", 2022) == 19996  # 포항시 (its 남구/북구 rows are not regions)
    assert [_empty(data, "27720", y) for y in (2022, 2023)] == [1042, 1326]  # 군위: 경북 row, then 대구 row
    t = data.tables["empty_houses"]
    assert set(t.region_code) == set(data.tables["regions"].region_code)
    assert set(t.housing_type) == {"계", "단독주택", "아파트", "연립주택", "다세대주택",
                                   "비주거용 건물 내 주택"}


def test_empty_house_subtotals_excluded_and_suppressed_cells_quarantined(data: RegionalData) -> None:
    busan = data.tables["empty_houses"].query("region_code.str.startswith('26') and housing_type == '계'")
    assert busan.groupby("year").empty_count.sum().to_dict() == {2022: 110_500, 2023: 114_245}  # 시도 row
    withheld = [q for q in data.quarantine if q.reason == "value withheld by KOSIS (X)"]
    assert len(withheld) == 14 and all(q.source == EMPTY_HOUSES_FILE for q in withheld)
    assert any(q.detail == "47940 2022 아파트" for q in withheld)  # 울릉군


def test_empty_house_name_that_matches_nothing_is_quarantined(tmp_path: Path) -> None:
    folder = _linked_copy(tmp_path)
    (folder / EMPTY_HOUSES_FILE).unlink()
    lines = [
        '"행정구역별(시군구)","주택의 종류별","항목","단위","2022 년","2023 년",',
        '"서울특별시","계","주택_계","","100706","107681",',
        '"중구","계","주택_계","","1,583","1752",',
        '"없는구","계","주택_계","","10","11",',
        '"부산광역시","계","주택_계","","110500","114245",',
        '"중구","계","주택_계","","2727","2979",',
    ]
    (folder / EMPTY_HOUSES_FILE).write_bytes("\n".join(lines).encode("cp949"))
    result = load_empty_houses(folder, build_regions(DATA))
    assert result.table.set_index(["region_code", "year"]).empty_count.to_dict() == {
        ("11140", 2022): 1583, ("11140", 2023): 1752, ("26110", 2022): 2727, ("26110", 2023): 2979}
    assert [(q.position, q.reason, q.detail) for q in result.quarantine] == [
        ("line 4", "name not matched to a region", "없는구 under 서울특별시")]


# ------------------------------------------------------------------------------ the database load
def _counts(pg: psycopg.Connection) -> dict[str, int]:
    tables = ["regions", "region_units", "region_population", "decline_areas", "places", "empty_houses"]
    out = {t: pg.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}  # type: ignore[index]
    out["quarantine"] = pg.execute("select count(*) from raw.quarantine").fetchone()[0]  # type: ignore[index]
    return out


def test_load_all_writes_every_table(regions_loaded: LoadSummary, pg: psycopg.Connection) -> None:
    counts = _counts(pg)
    assert {k: v for k, v in counts.items() if k != "quarantine"} == regions_loaded.counts
    assert regions_loaded.counts["regions"] == 229
    assert regions_loaded.population_total[2024] == 50_983_646 and regions_loaded.notes == []
    stored = dict(pg.execute("select split_part(reason, ': ', 1), count(*) from raw.quarantine "
                             "where source = %s group by 1", ["전국문화축제표준데이터.csv"]).fetchall())
    assert stored == {"no valid WGS84 coordinates": 228, "place outside every region boundary": 4,
                      "duplicate festival (same name, start date and venue)": 10}
    assert sum(regions_loaded.quarantined.values()) == pg.execute(
        "select count(*) from raw.quarantine where source = any(%s)", [list(SOURCE_FILES)]).fetchone()[0]
    row = pg.execute("select position, content from raw.quarantine where reason like 'duplicate tourist%%' "
                     "and position = 'line 440'").fetchone()
    assert row is not None and "가위박물관" in row[1]
    geo = pg.execute("select boundary_geojson->>'type', centroid_method from raw.regions "
                     "where region_code = '41110'").fetchone()
    assert geo == ("MultiPolygon", "area_centroid")


def test_every_region_check_passes(regions_loaded: LoadSummary, pg: psycopg.Connection) -> None:
    for name, (_, measure) in CHECKS.items():
        outcome = measure(pg)
        assert outcome.passed, (name, outcome.metadata)


def test_rerun_replaces_without_duplicates(regions_loaded: LoadSummary, engine: Engine,
                                           pg: psycopg.Connection) -> None:
    before = _counts(pg)
    pg.execute("insert into raw.quarantine (source, position, reason) values ('other.jsonl', '1', 'kept')")
    try:
        again = load_all(engine, DATA)
        after = _counts(pg)
    finally:
        pg.execute("delete from raw.quarantine where source = 'other.jsonl'")
    assert again.counts == regions_loaded.counts and again.quarantined == regions_loaded.quarantined
    assert after == {**before, "quarantine": before["quarantine"] + 1}  # other sources' rows untouched
    ids = pg.execute("select count(distinct place_id), count(*) from raw.places").fetchone()
    assert ids == (regions_loaded.counts["places"], regions_loaded.counts["places"])


def test_a_failing_load_changes_nothing(regions_loaded: LoadSummary, engine: Engine,
                                        pg: psycopg.Connection) -> None:
    before = _counts(pg)
    data = read_all(DATA)
    population = data.tables["region_population"].copy()
    population.loc[population.index[-1], "population"] = -1  # violates the check constraint, at the end
    data.tables["region_population"] = population
    with pytest.raises(psycopg.errors.CheckViolation):
        write_all(engine, data)  # through a SQLAlchemy engine
    assert _counts(pg) == before
    data.tables["region_population"] = population.iloc[:-1]
    places = data.tables["places"]
    data.tables["places"] = pd.concat([places, places.iloc[[0]]])  # a duplicate primary key
    with psycopg.connect(pg.info.dsn) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        write_all(conn, data)  # through a plain psycopg connection
    assert _counts(pg) == before
