"""File types from bytes: every supported format, and every way a file is refused."""

from __future__ import annotations

import numpy as np
import pytest

from ai.evidence.sniff import EvidenceError, MediaKind, check_polyglot, sniff
from tests.ai.evidence import media


@pytest.mark.parametrize(("maker", "name", "expected", "kind"), [
    (lambda img: media.jpeg(img), "work.jpg", "jpeg", MediaKind.IMAGE),
    (lambda img: media.png(img), "work.PNG", "png", MediaKind.IMAGE),
    (lambda img: media.webp(img), "work.webp", "webp", MediaKind.IMAGE),
    (lambda _: media.wav(media.speech_like(2)), "voice.wav", "wav", MediaKind.AUDIO),
    (lambda _: media.audio_bytes(media.speech_like(2), "FLAC"), "voice.flac", "flac", MediaKind.AUDIO),
    (lambda _: media.audio_bytes(media.speech_like(2), "OGG", subtype="VORBIS"), "voice.ogg", "ogg", MediaKind.AUDIO),
    (lambda _: media.audio_bytes(media.speech_like(2), "MP3"), "voice.mp3", "mp3", MediaKind.AUDIO),
])
def test_supported_types_are_recognised_from_their_bytes(scene_image: np.ndarray, maker, name: str,
                                                         expected: str, kind: MediaKind) -> None:
    data = maker(scene_image)
    sniffed = sniff(data, name)
    assert (sniffed.name, sniffed.kind) == (expected, kind)
    check_polyglot(data, sniffed)  # a clean file passes
    assert sniff(data, None).name == expected  # no name: the bytes decide alone


def test_the_name_never_decides_the_type(sharp_jpeg: bytes) -> None:
    with pytest.raises(EvidenceError) as err:
        sniff(sharp_jpeg, "voice.mp3")
    assert err.value.problem == "extension_mismatch"
    assert ".mp3" in err.value.message and "JPEG" in err.value.message


@pytest.mark.parametrize(("data", "what"), [
    (b"GIF89a" + bytes(100), "GIF"),
    (b"%PDF-1.7\n" + bytes(100), "PDF"),
    (b"\x00\x00\x00\x18ftypheic" + bytes(100), "HEIC"),
    (b"hello, this is a text file" * 4, "not a recognised"),
])
def test_unsupported_types_are_named(data: bytes, what: str) -> None:
    with pytest.raises(EvidenceError) as err:
        sniff(data, "file.jpg")
    assert err.value.problem == "unsupported_type"
    assert what in err.value.message


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(EvidenceError) as err:
        sniff(b"", "empty.jpg")
    assert err.value.problem == "empty_file"


def test_a_jpeg_with_a_zip_appended_is_a_polyglot(sharp_jpeg: bytes) -> None:
    data = media.zip_polyglot(sharp_jpeg)
    sniffed = sniff(data, "work.jpg")
    with pytest.raises(EvidenceError) as err:
        check_polyglot(data, sniffed)
    assert err.value.problem == "polyglot"
    assert "after the end" in err.value.message


def test_html_hidden_in_a_png_text_chunk_is_a_polyglot(scene_image: np.ndarray) -> None:
    data = media.html_in_png_text(scene_image)
    with pytest.raises(EvidenceError) as err:
        check_polyglot(data, sniff(data, "work.png"))
    assert err.value.problem == "polyglot"
    assert "<html" in err.value.message


def test_a_pdf_hidden_in_a_wav_is_a_polyglot() -> None:
    data = media.wav(media.speech_like(2))
    data = data[:60] + b"%PDF-1.4 hidden" + data[75:]
    with pytest.raises(EvidenceError) as err:
        check_polyglot(data, sniff(data, "voice.wav"))
    assert err.value.problem == "polyglot"


def test_a_few_padding_bytes_after_the_image_are_tolerated(sharp_jpeg: bytes) -> None:
    data = sharp_jpeg + b"\x00" * 64
    check_polyglot(data, sniff(data, "work.jpg"))
