"""Voice recordings: safe decoding (WAV, FLAC, OGG Vorbis/Opus, MP3 through libsndfile) and the
measurements the checks judge: duration, loudness, silence, clipping and speech activity.

The duration is read from the header and compared with the limit before anything is decoded; the
decode then runs block by block, so a long recording never sits in memory as one float array.
Speech activity is a simple energy + zero-crossing voice-activity detector: enough to tell a spoken
explanation from silence, hum or noise, which is what a reviewer needs to know before listening.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from ai.evidence.sniff import FLAC, OGG, WAV, EvidenceError, SniffedType

MAX_SECONDS = 600.0  # a spoken explanation of a skill: ten minutes is plenty
FRAME_SECONDS = 0.02
SILENCE_DBFS = -45.0  # a frame quieter than this is silence
SPEECH_ABOVE_FLOOR_DB = 9.0  # a speech frame stands this far above the recording's noise floor
SPEECH_ZCR_PER_SECOND = (50.0, 6000.0)  # voiced and unvoiced speech; white noise crosses far more often
CLIP_LEVEL = 0.999
_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "mp3": "MP3"}


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float
    sample_rate: int
    channels: int
    frames: int
    codec: str  # libsndfile's subtype, e.g. PCM_16, VORBIS, OPUS, MPEG_LAYER_III


@dataclass(frozen=True)
class AudioMeasures:
    duration_s: float
    sample_rate: int
    channels: int
    rms_dbfs: float  # loudness of the whole recording
    peak_dbfs: float
    silence_ratio: float  # share of 20-ms frames under SILENCE_DBFS
    clipping_ratio: float  # share of samples at full scale
    speech_ratio: float  # share of frames the VAD calls speech


def _open(data: bytes, sniffed: SniffedType) -> sf.SoundFile:
    try:
        handle = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError) as exc:
        detail = str(exc).split(":", 1)[-1].strip() or "unreadable"
        if _wav_format_tag(data) not in (None, 1, 3, 0xFFFE) or "codec" in detail.lower():
            raise EvidenceError("unsupported_codec", f"the {sniffed.name.upper()} file uses an encoding that "
                                f"cannot be decoded ({detail}); export it as plain WAV (PCM), FLAC, OGG or "
                                "MP3") from exc
        raise EvidenceError("corrupt", f"the recording cannot be decoded ({detail}); the file is damaged or "
                            "truncated: record or export it again") from exc
    if handle.format != _FORMATS[sniffed.name]:
        handle.close()
        raise EvidenceError("corrupt", f"the bytes start like {sniffed.name.upper()} but decode as "
                            f"{handle.format}; export the recording again")
    return handle


def _wav_format_tag(data: bytes) -> int | None:
    """The codec number in a WAV's fmt chunk (1 = PCM, 3 = float, 0xFFFE = extensible)."""
    chunk = _wav_chunk(data, b"fmt ")
    if chunk is None or chunk[1] < 2:
        return None
    return int(struct.unpack("<H", data[chunk[0]:chunk[0] + 2])[0])


def _wav_chunk(data: bytes, wanted: bytes) -> tuple[int, int] | None:
    """(offset of the payload, declared size) of a RIFF chunk of a WAV file."""
    pos = 12
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if kind == wanted:
            return pos + 8, size
        pos += 8 + size + (size & 1)
    return None


def ogg_complete(data: bytes) -> bool:
    """Every Ogg page is whole and the last one carries the end-of-stream flag (a cut upload does not)."""
    pos, last_flags = 0, 0
    while pos < len(data):
        if data[pos:pos + 4] != b"OggS" or pos + 27 > len(data):
            return False
        segments = data[pos + 26]
        table_end = pos + 27 + segments
        if table_end > len(data):
            return False
        last_flags = data[pos + 5]
        pos = table_end + sum(data[pos + 27:table_end])
        if pos > len(data):
            return False
    return bool(last_flags & 0x04)


def _declared_frames(data: bytes, sniffed: SniffedType) -> int | None:
    """Frames the container promises, where it says (FLAC STREAMINFO; WAV data size ÷ block align)."""
    if sniffed is FLAC and len(data) >= 26:
        total = int.from_bytes(data[21:26], "big") & ((1 << 36) - 1)
        return total or None
    if sniffed is WAV:
        fmt, chunk = _wav_chunk(data, b"fmt "), _wav_chunk(data, b"data")
        if fmt is None or chunk is None or fmt[1] < 14:
            return None
        block_align = struct.unpack("<H", data[fmt[0] + 12:fmt[0] + 14])[0]
        available = max(0, len(data) - chunk[0])
        if chunk[1] > available and block_align:
            return chunk[1] // block_align
    return None


def probe(data: bytes, sniffed: SniffedType, max_seconds: float = MAX_SECONDS) -> AudioInfo:
    """Header facts, with the duration limit and a truncation check, before any decoding."""
    with _open(data, sniffed) as handle:
        frames, rate, channels, codec = handle.frames, handle.samplerate, handle.channels, handle.subtype
    if rate <= 0 or channels <= 0:
        raise EvidenceError("corrupt", "the recording declares no sample rate or channels; export it again")
    duration = frames / rate
    if duration > max_seconds:
        raise EvidenceError("too_long", f"the recording lasts {duration:.0f} s, over the limit of "
                            f"{max_seconds:.0f} s; trim it or split it into several recordings")
    if sniffed is OGG and not ogg_complete(data):
        raise EvidenceError("truncated", "the Ogg recording ends part-way through a page or without its "
                            "end-of-stream mark (the upload was cut short or the file is damaged); send it again")
    declared = _declared_frames(data, sniffed)
    if declared is not None and declared > frames + rate // 100:
        raise EvidenceError("truncated", f"the recording promises {declared / rate:.1f} s but holds only "
                            f"{duration:.1f} s (the upload was cut short or the file is damaged); send it again")
    if frames == 0:
        raise EvidenceError("empty_recording", "the recording holds no sound at all; record it again")
    return AudioInfo(duration, rate, channels, frames, codec)


def _db(power: float | np.ndarray) -> float | np.ndarray:
    return 10.0 * np.log10(np.maximum(power, 1e-12))


def measure(data: bytes, sniffed: SniffedType, max_seconds: float = MAX_SECONDS) -> AudioMeasures:
    """Decode block by block and measure; raises EvidenceError when the audio does not decode to the end."""
    info = probe(data, sniffed, max_seconds)
    frame_len = max(1, round(info.sample_rate * FRAME_SECONDS))
    energies: list[np.ndarray] = []
    crossings: list[np.ndarray] = []
    total_sq, peak, clipped, samples = 0.0, 0.0, 0, 0
    with _open(data, sniffed) as handle:
        try:
            while (block := handle.read(frame_len * 500, dtype="float32", always_2d=True)).size:
                clipped += int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL))
                mono = block.mean(axis=1, dtype=np.float32)
                samples += mono.size
                total_sq += float(np.dot(mono, mono))
                peak = max(peak, float(np.abs(block).max(initial=0.0)))
                usable = mono[: mono.size - mono.size % frame_len].reshape(-1, frame_len)
                energies.append((usable.astype(np.float64) ** 2).mean(axis=1))
                signs = np.signbit(usable)
                crossings.append(np.count_nonzero(signs[:, 1:] != signs[:, :-1], axis=1))
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise EvidenceError("corrupt", f"the recording stops decoding part-way ({exc}); the file is damaged "
                                "or truncated: send it again") from exc
    if samples < info.frames - info.sample_rate // 100:
        raise EvidenceError("truncated", f"the recording decodes to {samples / info.sample_rate:.1f} s of the "
                            f"{info.duration_s:.1f} s it declares; the file is damaged or truncated")
    energy = np.concatenate(energies) if energies else np.zeros(0)
    zcr = np.concatenate(crossings) / FRAME_SECONDS if crossings else np.zeros(0)
    return AudioMeasures(
        duration_s=round(samples / info.sample_rate, 3), sample_rate=info.sample_rate, channels=info.channels,
        rms_dbfs=float(_db(total_sq / max(samples, 1))), peak_dbfs=float(20 * math.log10(max(peak, 1e-6))),
        silence_ratio=_ratio(_db(energy) < SILENCE_DBFS),
        clipping_ratio=clipped / max(samples * info.channels, 1),
        speech_ratio=_ratio(speech_frames(energy, zcr)),
    )


def speech_frames(energy: np.ndarray, zcr_per_second: np.ndarray) -> np.ndarray:
    """Energy + zero-crossing VAD: frames clearly above the noise floor, with a speech-like crossing rate."""
    if energy.size == 0:
        return np.zeros(0, dtype=bool)
    level = _db(energy)
    floor = float(np.percentile(level, 10))
    loud = (level > floor + SPEECH_ABOVE_FLOOR_DB) & (level > SILENCE_DBFS)
    low, high = SPEECH_ZCR_PER_SECOND
    voiced = (zcr_per_second >= low) & (zcr_per_second <= high)
    return np.asarray(loud & voiced)


def _ratio(mask: np.ndarray) -> float:
    return float(mask.mean()) if mask.size else 0.0
