"""Field types shared by several domains' schemas and parameters."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

REGION_CODE_HINT = "a region code is the 5-digit 시군구 code, e.g. 47730 for 의성군 (list them at /regions)"


def _region_code(value: str) -> str:
    if not re.fullmatch(r"\d{5}", value):
        raise ValueError(REGION_CODE_HINT)
    return value


RegionCode = Annotated[str, AfterValidator(_region_code)]
