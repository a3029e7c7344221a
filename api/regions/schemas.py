"""What the API says about a region. Public statistics about whole 시군구 (no platform users in them)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import RowMapping


class Point(BaseModel):
    lat: float
    lon: float


class PopulationPublic(BaseModel):
    year: int = Field(description="year-end resident population (주민등록 거주자)")
    total: int
    male: int
    female: int
    women_20_39: int
    people_65_plus: int
    change_pct: float | None = Field(description="change since 2022, in percent")


class ExtinctionRiskPublic(BaseModel):
    """소멸위험지수 = women aged 20–39 ÷ people aged 65+ (KEIS classes)."""

    index: float
    risk_class: str = Field(description="very_low, low, caution, risk or high_risk")
    label_ko: str
    rank: int = Field(description="1 = the highest risk (lowest index) of all 시군구")


class PlaceCounts(BaseModel):
    tourist_spots: int
    festivals: int
    heritage_sites: int


class EmptyHousesPublic(BaseModel):
    count: int
    year: int


class RegionPublic(BaseModel):
    code: str = Field(examples=["47730"])
    sido_code: str
    sido_name: str
    name: str = Field(description="the 시군구 name, e.g. 의성군")
    full_name: str = Field(examples=["경상북도 의성군"])
    level: str
    centroid: Point
    area_km2: float
    population: PopulationPublic | None
    extinction_risk: ExtinctionRiskPublic | None
    is_decline_area: bool = Field(description="인구감소지역 (89 designated in 2021)")
    is_interest_area: bool = Field(description="관심지역 (18)")
    empty_houses: EmptyHousesPublic | None
    places: PlaceCounts

    @classmethod
    def from_row(cls, row: RowMapping) -> RegionPublic:
        population = None
        if row["population_total"] is not None:
            change = row["population_change_pct"]
            population = PopulationPublic(
                year=row["population_year"], total=row["population_total"], male=row["population_male"],
                female=row["population_female"], women_20_39=row["women_20_39_count"],
                people_65_plus=row["people_65_plus_count"], change_pct=None if change is None else float(change))
        risk = None
        if row["extinction_risk_index"] is not None:
            risk = ExtinctionRiskPublic(index=float(row["extinction_risk_index"]),
                                        risk_class=row["extinction_risk_class"],
                                        label_ko=row["extinction_risk_label_ko"], rank=row["extinction_risk_rank"])
        houses = None
        if row["empty_houses_count"] is not None:
            houses = EmptyHousesPublic(count=row["empty_houses_count"], year=row["empty_houses_year"])
        return cls(code=row["region_code"], sido_code=row["sido_code"], sido_name=row["sido_name"],
                   name=row["sgg_name"], full_name=row["full_name"], level=row["level"],
                   centroid=Point(lat=row["centroid_lat"], lon=row["centroid_lon"]), area_km2=row["area_km2"],
                   population=population, extinction_risk=risk, is_decline_area=bool(row["is_decline_area"]),
                   is_interest_area=bool(row["is_interest_area"]), empty_houses=houses,
                   places=PlaceCounts(tourist_spots=row["tourist_spot_count"] or 0,
                                      festivals=row["festival_count"] or 0,
                                      heritage_sites=row["heritage_count"] or 0))
