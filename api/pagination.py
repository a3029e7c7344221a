"""Limit/offset pages: `{"items": [...], "total", "limit", "offset"}`."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

MAX_OFFSET = 100_000
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="how many items match the filters, over all pages")
    limit: int
    offset: int


Limit = Annotated[int, Query(ge=1, le=100, description="page size, 1–100")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
