"""Real test media made on the spot: textured photos, a blurred one, one with EXIF time and GPS, one
with a QR code, speech-like recordings in every supported container, and every kind of bad file.

Nothing is downloaded and nothing depends on system tools (no espeak-ng, no sox): numpy, OpenCV,
Pillow, qrcode and soundfile make it all, seeded, so each run sees the same bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

import cv2
import numpy as np
import qrcode
import soundfile as sf
from PIL import Image
from scipy.signal import lfilter


# ---------------------------------------------------------------------------------- photos
def scene(seed: int, width: int = 1600, height: int = 1200) -> np.ndarray:
    """A textured colour scene: smooth colour fields, wood-like stripes, edges and fine grain."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (width, height),
                      interpolation=cv2.INTER_CUBIC).astype(np.float32)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    grain = 25 * np.sin(x / (7 + seed % 5) + 3 * np.sin(y / 90.0 + seed))
    image = base + grain[..., None] + rng.normal(0, 4, (height, width, 3))
    for _ in range(25):
        p1 = tuple(int(v) for v in rng.integers(0, (width, height)))
        p2 = tuple(int(v) for v in rng.integers(0, (width, height)))
        cv2.rectangle(image, p1, p2, tuple(float(v) for v in rng.integers(0, 255, 3)), int(rng.integers(2, 9)))
    return np.clip(image, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


def webp(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 90])
    assert ok
    return buf.tobytes()


def blurred(image: np.ndarray, sigma: float = 9.0) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def _rational(value: float) -> tuple[int, int]:
    return round(value * 10_000), 10_000


def with_exif(image: np.ndarray, taken_at: datetime, lat: float, lon: float, offset: str = "+09:00") -> bytes:
    """A JPEG written by Pillow with DateTimeOriginal, OffsetTimeOriginal and GPS, as a phone would."""
    pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    exif = Image.Exif()
    exif[0x010F] = "HometownCam"  # Make
    sub = exif.get_ifd(0x8769)
    sub[36867] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    sub[36881] = offset
    gps = exif.get_ifd(0x8825)

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = (value - degrees - minutes / 60) * 3600
        return (float(degrees), float(minutes), round(seconds, 4))

    gps[1], gps[2] = ("N" if lat >= 0 else "S"), dms(lat)
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), dms(lon)
    out = io.BytesIO()
    pil.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def with_qr(image: np.ndarray, content: str, fraction: float = 0.3) -> np.ndarray:
    """The scene with a QR code (as printed or shown on a host's screen) filling `fraction` of its height."""
    code = np.asarray(qrcode.make(content, border=4).get_image().convert("L"), dtype=np.uint8)
    side = int(image.shape[0] * fraction)
    code = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
    out = image.copy()
    top, left = image.shape[0] // 4, image.shape[1] // 3
    out[top:top + side, left:left + side] = code[..., None]
    return out


def pixel_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small, valid PNG header declaring width × height, followed by a tiny compressed stream."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 65_536, 9)  # zeros: a real bomb would expand to 10 GB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zip_polyglot(photo: bytes) -> bytes:
    """A JPEG with a ZIP archive appended: image viewers show the photo, unzip finds a file."""
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<html><script>alert(1)</script></html>")
    return photo + buffer.getvalue()


def html_in_png_text(image: np.ndarray) -> bytes:
    """A PNG whose tEXt chunk carries an HTML page (a classic image/HTML polyglot)."""
    data = png(image)
    body = b"Comment\x00<html><script>alert(1)</script></html>"
    text = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return data[:33] + text + data[33:]  # after the 8-byte signature and the 25-byte IHDR chunk


# ---------------------------------------------------------------------------------- audio
def speech_like(seconds: float = 12.0, rate: int = 16_000, seed: int = 1, level_dbfs: float = -26.0) -> np.ndarray:
    """Syllables of a pulse-train voice through formant resonators, with fricatives and pauses."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate), dtype=np.float64)
    pos = int(0.3 * rate)
    while pos < out.size - rate // 2:
        length = int(rng.uniform(0.12, 0.28) * rate)
        f0 = rng.uniform(100, 170)
        phase = np.cumsum(np.full(length, f0 * (1 + 0.03 * rng.standard_normal()) / rate))
        source = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)
        if rng.random() < 0.25:  # a fricative (s, sh): shaped noise
            source = np.diff(rng.standard_normal(length), prepend=0) * 0.3
        voice = source
        for formant, bandwidth in ((rng.uniform(400, 850), 80), (rng.uniform(900, 2200), 120), (2600, 200)):
            r = np.exp(-np.pi * bandwidth / rate)
            theta = 2 * np.pi * formant / rate
            voice = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], voice)
        out[pos:pos + length] += voice * np.hanning(length)
        pos += length + int(rng.uniform(0.03, 0.08) * rate)
        if rng.random() < 0.1:
            pos += int(rng.uniform(0.3, 0.7) * rate)  # a pause between phrases
    out *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(out ** 2))
    out += rng.normal(0, 10 ** (-60 / 20), out.size)  # room noise
    return out.astype(np.float32)


def audio_bytes(signal: np.ndarray, fmt: str, rate: int = 16_000, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, signal, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def wav(signal: np.ndarray, rate: int = 16_000) -> bytes:
    return audio_bytes(signal, "WAV", rate, "PCM_16")


def silence(seconds: float = 8.0, rate: int = 16_000) -> np.ndarray:
    return np.random.default_rng(3).normal(0, 10 ** (-70 / 20), int(seconds * rate)).astype(np.float32)


def hum(seconds: float = 8.0, rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 120 * t)).astype(np.float32)


def clipped(seconds: float = 8.0, rate: int = 16_000) -> np.ndarray:
    return np.clip(speech_like(seconds, rate, level_dbfs=-2.0) * 4, -1.0, 1.0).astype(np.float32)


def wav_with_codec(tag: int = 0x2000, seconds: float = 1.0, rate: int = 16_000) -> bytes:
    """A WAV whose fmt chunk names a codec libsndfile cannot decode (0x2000: Dolby AC-3)."""
    data = bytes(int(seconds * rate) * 2)
    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body
