"""Deterministic, time-ordered UUIDs (RFC 9562 version 7 layout) from a seeded generator.

Version 7 ids sort by time, which keeps the primary-key index of raw.activity_events appending at
its right edge; drawing the random bits from a seeded generator (instead of the OS) makes the demo
files byte-identical for the same seed. The loader never relies on the ordering.
"""

from __future__ import annotations

import random
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT = 0x2 << 62
_RAND_A = (1 << 12) - 1
_RAND_B = (1 << 62) - 1


def uuid7_int(unix_ms: int, bits: int) -> int:
    """The 128-bit value: 48-bit millisecond time, version 7, 74 bits of `bits`."""
    return ((unix_ms & 0xFFFF_FFFF_FFFF) << 80) | _VERSION_7 | ((bits >> 62) & _RAND_A) << 64 | _VARIANT \
        | (bits & _RAND_B)


def uuid7_str(unix_ms: int, rng: random.Random) -> str:
    """A canonical string id for an event that happened at `unix_ms` (formatted directly: hot path)."""
    h = "%032x" % uuid7_int(unix_ms, rng.getrandbits(74))  # noqa: UP031 (faster than format())
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4_from(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from a seeded generator (users, missions, needs: no time order needed)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)
