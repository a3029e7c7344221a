"""Every table module, imported once: the complete `metadata` (what migrations and their test compare)."""

from __future__ import annotations

import core.tables_certify
import core.tables_community
import core.tables_loop
import core.tables_loopdata
import core.tables_recommend
import core.tables_report  # noqa: F401
from core.tables import metadata

__all__ = ["metadata"]
