"""Response schemas of /reports: the index rows as a client sees them (never the storage key)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class ReportPublic(BaseModel):
    kind: str = Field(description="regional | policy | personal")
    region_code: str | None
    user_id: uuid.UUID | None
    period: str = Field(description="YYYY-MM or YYYY-Qn")
    title: str
    pages: int
    sha256: str
    engine: str = Field(description="who wrote the narrative: template-v1 or openai:<model>")
    fallback_reason: str | None
    state: str = Field(description="full, or small / none for the short report of a quiet period")
    generated_at: datetime
    download_url: str

    @classmethod
    def from_row(cls, row: Any) -> ReportPublic:
        if row["kind"] == "personal":
            url = f"/reports/me/{row['period']}.pdf"
        else:
            url = f"/reports/regions/{row['region_code']}/{row['kind']}/{row['period']}.pdf"
        return cls(kind=row["kind"], region_code=row["region_code"], user_id=row["user_id"], period=row["period"],
                   title=row["title"], pages=row["pages"], sha256=row["sha256"], engine=row["engine"],
                   fallback_reason=row["fallback_reason"], state=row["state"], generated_at=row["generated_at"],
                   download_url=url)


class ReportPeriod(BaseModel):
    """A report the caller may download, made on the first download when `generated_at` is null."""

    kind: str = Field(description="regional | policy | personal")
    region_code: str | None
    period: str = Field(description="YYYY-MM or YYYY-Qn")
    period_start: date
    period_end: date = Field(description="the first day after the period")
    generated_at: datetime | None = Field(description="when the stored PDF was made; null: not made yet")
    state: str | None = Field(description="full, small or none once generated")
    download_url: str
