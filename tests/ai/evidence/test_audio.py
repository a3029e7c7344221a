"""Voice recordings: every container decodes and measures alike; bad files are refused with the reason."""

from __future__ import annotations

import pytest

from ai.evidence import audio
from ai.evidence.sniff import EvidenceError, sniff
from tests.ai.evidence import media

SPEECH = media.speech_like(12.0)


@pytest.mark.parametrize(("fmt", "subtype", "name"), [
    ("WAV", "PCM_16", "v.wav"), ("FLAC", None, "v.flac"), ("OGG", "VORBIS", "v.ogg"), ("MP3", None, "v.mp3"),
])
def test_every_container_gives_the_same_picture_of_speech(fmt: str, subtype: str | None, name: str) -> None:
    data = media.audio_bytes(SPEECH, fmt, subtype=subtype)
    m = audio.measure(data, sniff(data, name))
    assert m.duration_s == pytest.approx(12.0, abs=0.1)
    assert m.sample_rate == 16_000 and m.channels == 1
    assert m.rms_dbfs == pytest.approx(-26.0, abs=1.5)
    assert m.clipping_ratio < 0.001
    assert m.speech_ratio > 0.35
    assert m.silence_ratio < 0.6


def test_opus_in_ogg_decodes() -> None:
    data = media.audio_bytes(media.speech_like(6.0, rate=48_000), "OGG", rate=48_000, subtype="OPUS")
    assert audio.measure(data, sniff(data, "v.opus")).speech_ratio > 0.3


def test_silence_hum_and_clipping_are_told_apart() -> None:
    quiet = audio.measure(media.wav(media.silence()), sniff(media.wav(media.silence())))
    hum = audio.measure(media.wav(media.hum()), sniff(media.wav(media.hum())))
    loud = media.wav(media.clipped())
    clipped = audio.measure(loud, sniff(loud))
    assert quiet.silence_ratio == 1.0 and quiet.speech_ratio == 0.0 and quiet.rms_dbfs < -60
    assert hum.silence_ratio == 0.0 and hum.speech_ratio == 0.0  # loud but steady: not speech
    assert clipped.clipping_ratio > 0.05


def test_the_duration_limit_is_checked_before_decoding() -> None:
    data = media.wav(media.speech_like(3.0))
    with pytest.raises(EvidenceError) as err:
        audio.probe(data, sniff(data), max_seconds=2.0)
    assert err.value.problem == "too_long"


@pytest.mark.parametrize(("fmt", "name", "keep"), [("WAV", "v.wav", 0.5), ("FLAC", "v.flac", 0.5),
                                                   ("OGG", "v.ogg", 0.2), ("MP3", "v.mp3", 0.4)])
def test_truncated_recordings_are_refused(fmt: str, name: str, keep: float) -> None:
    whole = media.audio_bytes(SPEECH, fmt, subtype="PCM_16" if fmt == "WAV" else None)
    cut = whole[: int(len(whole) * keep)]
    with pytest.raises(EvidenceError) as err:
        audio.measure(cut, sniff(cut, name))
    assert err.value.problem in {"truncated", "corrupt"}


def test_an_unsupported_codec_is_named() -> None:
    data = media.wav_with_codec()
    with pytest.raises(EvidenceError) as err:
        audio.measure(data, sniff(data, "v.wav"))
    assert err.value.problem == "unsupported_codec"


def test_a_header_without_any_sound_is_refused() -> None:
    data = media.wav(media.speech_like(1.0)[:0])
    with pytest.raises(EvidenceError) as err:
        audio.measure(data, sniff(data, "v.wav"))
    assert err.value.problem == "empty_recording"
