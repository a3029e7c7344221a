from datetime import UTC, datetime, timedelta

import pytest

from core import qr
from core.geo import haversine_m, travel_check, valid_position

KEY = "k" * 40


def test_haversine_seoul_busan_is_about_325_km():
    assert 320_000 < haversine_m(37.5665, 126.9780, 35.1796, 129.0756) < 330_000


def test_positions_outside_range_or_korea_are_refused():
    assert valid_position(36.35, 128.69) is None  # 의성군
    assert "outside Korea" in valid_position(35.68, 139.76)  # Tokyo
    assert "-90..90" in valid_position(91, 128)
    assert "numbers" in valid_position("36", 128)
    assert "finite" in valid_position(float("nan"), 128)


def test_teleport_is_impossible_travel_but_a_train_is_not():
    t0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
    seoul, uiseong = (37.5665, 126.9780), (36.3527, 128.6973)
    teleport = travel_check(*seoul, t0, *uiseong, t0 + timedelta(minutes=10))
    assert not teleport.plausible and "impossible travel" in teleport.reason
    train = travel_check(*seoul, t0, *uiseong, t0 + timedelta(hours=2, minutes=30))
    assert train.plausible
    jitter = travel_check(*uiseong, t0, uiseong[0] + 0.001, uiseong[1], t0)
    assert jitter.plausible


def test_qr_token_round_trip_and_refusals():
    token, claims = qr.issue(KEY, "m-1", 2, "host-1", ttl_seconds=60, now=1_000_000)
    checked = qr.verify(KEY, token, now=1_000_030)
    assert checked == claims and checked.step_no == 2
    with pytest.raises(qr.QrTokenError) as expired:
        qr.verify(KEY, token, now=1_000_200)
    assert expired.value.reason == "expired"
    with pytest.raises(qr.QrTokenError) as forged:
        qr.verify("other" * 10, token, now=1_000_030)
    assert forged.value.reason == "forged"
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload[:-2]}AA.{sig}"
    with pytest.raises(qr.QrTokenError) as bad:
        qr.verify(KEY, tampered, now=1_000_030)
    assert bad.value.reason in {"forged", "malformed"}
    with pytest.raises(qr.QrTokenError) as junk:
        qr.verify(KEY, "hello", now=1_000_030)
    assert junk.value.reason == "malformed"
    other, _ = qr.issue(KEY, "m-1", 2, "host-1", now=1_000_000)
    assert qr.verify(KEY, other, now=1_000_001).token_id != claims.token_id
