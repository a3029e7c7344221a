"""Geography helpers: great-circle distance, Korea's extent, plausibility of travel between check-ins."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

EARTH_RADIUS_M = 6_371_008.8

# Korea's extent with a margin: Marado (33.11 N), the DMZ (38.6 N), Baengnyeongdo (124.6 E), Dokdo (131.87 E)
KOREA_LAT = (32.5, 39.0)
KOREA_LON = (124.0, 132.0)

# Faster than this between two check-ins is impossible travel. 300 km/h covers KTX (305 km/h top speed)
# and the Seoul–Jeju flight averaged door to door; a teleport between spots far apart within minutes is not.
MAX_TRAVEL_KMH = 300.0
# GPS noise: jumps shorter than this are never called travel, whatever the time between them
TRAVEL_NOISE_M = 1_000.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def in_korea(lat: float, lon: float) -> bool:
    return KOREA_LAT[0] <= lat <= KOREA_LAT[1] and KOREA_LON[0] <= lon <= KOREA_LON[1]


def valid_position(lat: object, lon: object) -> str | None:
    """None when (lat, lon) is a usable WGS84 position, else what is wrong with it."""
    if isinstance(lat, bool) or isinstance(lon, bool) or not isinstance(lat, int | float) \
            or not isinstance(lon, int | float):
        return "lat and lon must both be numbers"
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return "lat and lon must be finite numbers"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return "lat must be within -90..90 and lon within -180..180"
    if not in_korea(lat, lon):
        return f"position ({lat}, {lon}) is outside Korea (lat {KOREA_LAT}, lon {KOREA_LON})"
    return None


@dataclass(frozen=True)
class TravelCheck:
    plausible: bool
    distance_m: float
    speed_kmh: float | None
    reason: str | None


def travel_check(prev_lat: float, prev_lon: float, prev_at: datetime, lat: float, lon: float,
                 at: datetime, max_kmh: float = MAX_TRAVEL_KMH) -> TravelCheck:
    """Could a person have moved from the previous check-in to this one in the time between them?"""
    distance = haversine_m(prev_lat, prev_lon, lat, lon)
    seconds = (at - prev_at).total_seconds()
    if distance <= TRAVEL_NOISE_M:
        return TravelCheck(True, distance, None, None)
    if seconds <= 0:
        return TravelCheck(False, distance, None,
                           f"impossible travel: {distance / 1000:.1f} km from the previous check-in at the same time")
    speed = distance / seconds * 3.6
    if speed > max_kmh:
        return TravelCheck(False, distance, speed,
                           f"impossible travel: {distance / 1000:.1f} km in {seconds / 60:.0f} min "
                           f"({speed:.0f} km/h > {max_kmh:.0f} km/h)")
    return TravelCheck(True, distance, speed, None)
