"""Test media shared by the evidence tests (made once per session; see media.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ai.evidence import media


@pytest.fixture(scope="session")
def scene_image() -> np.ndarray:
    return media.scene(seed=11)


@pytest.fixture(scope="session")
def sharp_jpeg(scene_image: np.ndarray) -> bytes:
    return media.jpeg(scene_image)


@pytest.fixture(scope="session")
def speech_wav() -> bytes:
    return media.wav(media.speech_like(12.0))
