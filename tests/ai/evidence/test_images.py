"""Photos: safe preparation (limits, EXIF, re-encoding) and the measurements behind the checks."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from PIL import Image

from ai.evidence import images
from ai.evidence.sniff import JPEG, PNG, EvidenceError, sniff
from core import qr
from tests.ai.evidence import media


def test_exif_time_and_gps_are_read_then_removed_from_the_stored_copy(scene_image: np.ndarray) -> None:
    taken = datetime(2026, 5, 3, 14, 30, 5)
    data = media.with_exif(scene_image, taken, lat=36.3526, lon=128.6972)  # 의성군
    prepared = images.prepare_image(data, sniff(data, "photo.jpg"))
    assert prepared.exif.taken_at == datetime(2026, 5, 3, 5, 30, 5, tzinfo=UTC)  # 14:30 KST
    assert prepared.exif.lat == pytest.approx(36.3526, abs=1e-4)
    assert prepared.exif.lon == pytest.approx(128.6972, abs=1e-4)
    assert (prepared.width, prepared.height) == (1600, 1200)
    with Image.open(io.BytesIO(prepared.stored)) as stored:
        assert stored.format == "JPEG"
        assert len(stored.getexif()) == 0
        assert "exif" not in stored.info
    assert b"HometownCam" not in prepared.stored and b"GPS" not in prepared.stored


def test_a_photo_without_exif_has_no_time_or_place(sharp_jpeg: bytes) -> None:
    assert images.read_exif(sharp_jpeg) == images.ExifFacts(None, None, None)


def test_a_pixel_bomb_is_refused_from_its_header() -> None:
    bomb = media.pixel_bomb()
    assert len(bomb) < 2_000
    with pytest.raises(EvidenceError) as err:
        images.prepare_image(bomb, sniff(bomb, "bomb.png"))
    assert err.value.problem == "too_many_pixels"


def test_a_large_but_legal_header_over_our_limit_is_refused() -> None:
    data = media.pixel_bomb(8_000, 6_000)  # 48 MP: under Pillow's bomb limit, over ours
    with pytest.raises(EvidenceError) as err:
        images.prepare_image(data, PNG)
    assert err.value.problem == "too_many_pixels"
    assert "48 MP" in err.value.message


def test_a_truncated_jpeg_is_refused(sharp_jpeg: bytes) -> None:
    cut = sharp_jpeg[: len(sharp_jpeg) * 2 // 3]
    with pytest.raises(EvidenceError) as err:
        images.prepare_image(cut, JPEG)
    assert err.value.problem == "truncated"


def test_garbage_after_a_valid_header_is_refused(sharp_jpeg: bytes) -> None:
    corrupt = sharp_jpeg[:200] + bytes(range(256)) * 40 + b"\xff\xd9"
    with pytest.raises(EvidenceError) as err:
        images.prepare_image(corrupt, JPEG)
    assert err.value.problem in {"corrupt", "truncated"}


def test_blur_separates_sharp_from_blurred(scene_image: np.ndarray) -> None:
    sharp = images.measure(media.jpeg(scene_image))
    soft = images.measure(media.jpeg(media.blurred(scene_image)))
    assert sharp.blur_variance > 100 > 40 > soft.blur_variance


def test_exposure_and_contrast_see_a_dark_flat_photo(scene_image: np.ndarray) -> None:
    dark = (scene_image * 0.05).astype(np.uint8)
    normal = images.measure(media.jpeg(scene_image))
    measured = images.measure(media.jpeg(dark))
    assert 60 < normal.brightness_mean < 200 and normal.contrast_std > 30
    assert measured.brightness_mean < 15 and measured.contrast_std < 15
    assert measured.dark_fraction > 0.3


def test_phash_survives_reencoding_and_resizing_but_tells_scenes_apart(scene_image: np.ndarray) -> None:
    original = images.measure(media.jpeg(scene_image, quality=95)).phash
    smaller = cv2.resize(scene_image, (800, 600), interpolation=cv2.INTER_AREA)
    recompressed = images.measure(media.jpeg(smaller, quality=60)).phash
    other = images.measure(media.jpeg(media.scene(seed=12))).phash
    assert images.hamming(original, recompressed) <= 4
    assert images.hamming(original, other) > 16


def test_a_qr_code_in_the_photo_is_read(scene_image: np.ndarray) -> None:
    token, _ = qr.issue("k" * 40, "00000000-0000-0000-0000-000000000001", 2, "host")
    large = cv2.resize(scene_image, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    photo = media.jpeg(media.with_qr(large, token, fraction=0.3))
    assert images.measure(photo).qr_text == token
    assert images.measure(media.jpeg(large)).qr_text is None


def test_prepared_copy_is_scaled_to_the_stored_size() -> None:
    big = media.scene(seed=5, width=5000, height=2500)
    prepared = images.prepare_image(media.jpeg(big), JPEG)
    assert (prepared.width, prepared.height) == (5000, 2500)
    assert (prepared.stored_width, prepared.stored_height) == (4096, 2048)
