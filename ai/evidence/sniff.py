"""Decide a file's type from its bytes, never its name; refuse polyglots and mismatched extensions.

A file that two programs would read as two different things (a JPEG with a ZIP appended, a PNG whose
text chunk holds HTML) is refused: the platform stores evidence that others will open, and the
re-encoding of images only protects viewers of the stored copy, not of the upload itself.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"


class EvidenceError(ValueError):
    """A file is refused. `problem` is a stable key, the message says what is wrong and what to do."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True)
class SniffedType:
    name: str  # jpeg | png | webp | wav | flac | ogg | mp3
    kind: MediaKind
    mime: str
    extensions: tuple[str, ...]


JPEG = SniffedType("jpeg", MediaKind.IMAGE, "image/jpeg", ("jpg", "jpeg", "jpe", "jfif"))
PNG = SniffedType("png", MediaKind.IMAGE, "image/png", ("png",))
WEBP = SniffedType("webp", MediaKind.IMAGE, "image/webp", ("webp",))
WAV = SniffedType("wav", MediaKind.AUDIO, "audio/wav", ("wav", "wave"))
FLAC = SniffedType("flac", MediaKind.AUDIO, "audio/flac", ("flac",))
OGG = SniffedType("ogg", MediaKind.AUDIO, "audio/ogg", ("ogg", "oga", "opus"))
MP3 = SniffedType("mp3", MediaKind.AUDIO, "audio/mpeg", ("mp3",))
SUPPORTED = (JPEG, PNG, WEBP, WAV, FLAC, OGG, MP3)
SUPPORTED_NAMES = ", ".join(t.name.upper() for t in SUPPORTED)

# formats people do send, named so the message can say what the file was
_KNOWN_UNSUPPORTED: tuple[tuple[int, bytes, str], ...] = (
    (0, b"GIF8", "GIF"), (0, b"BM", "BMP"), (0, b"II*\x00", "TIFF"), (0, b"MM\x00*", "TIFF"),
    (0, b"%PDF-", "PDF"), (0, b"PK\x03\x04", "ZIP"), (4, b"ftypheic", "HEIC"), (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"), (4, b"ftypavif", "AVIF"), (4, b"ftypM4A ", "M4A/AAC"), (4, b"ftyp", "MP4/MOV"),
    (0, b"\x1aE\xdf\xa3", "WebM/Matroska"), (0, b"#!AMR", "AMR"), (0, b"RIFF", "RIFF (not WAV or WebP)"),
    (0, b"FORM", "AIFF"), (0, b"\xff\xf1", "AAC (ADTS)"), (0, b"\xff\xf9", "AAC (ADTS)"),
)
# content that makes a file a second, active document when some program opens it
_ACTIVE_MARKUP = re.compile(rb"(?i)<script[\s>]|<html[\s>]|<iframe[\s>]|<!doctype\s+html")
_ACTIVE_EXACT = (b"<?php", b"%PDF-")  # case-sensitive: short, so case-folding would raise false alarms
_ZIP_END = b"PK\x05\x06"  # ZIP readers look for the end-of-central-directory record from the end
_MAX_TRAILING = 32  # a few padding bytes after the logical end are common and harmless


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG-1/2/2.5 Layer III frame header with a valid bitrate and sample rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 0b1111) and rate != 0b11


def _type_of(head: bytes) -> SniffedType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return MP3
    return None


def _unsupported_name(head: bytes) -> str | None:
    for offset, magic, name in _KNOWN_UNSUPPORTED:
        if head[offset:offset + len(magic)] == magic:
            return name
    return None


def extension_of(filename: str | None) -> str | None:
    if not filename:
        return None
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    return suffix or None


def sniff(data: bytes, filename: str | None = None) -> SniffedType:
    """The type of `data` (the whole file, or at least its first 16 bytes) from its magic bytes.

    Raises EvidenceError for an empty file, an unknown or unsupported type, or a name whose extension
    says another type than the bytes do.
    """
    if not data:
        raise EvidenceError("empty_file", "the file is empty (0 bytes); choose the photo or recording again")
    sniffed = _type_of(data[:16])
    if sniffed is None:
        other = _unsupported_name(data[:16])
        what = f"a {other} file" if other else "not a recognised image or audio file"
        raise EvidenceError("unsupported_type", f"the content is {what}; send photos as JPEG, PNG or WebP and "
                            "recordings as WAV, FLAC, OGG or MP3")
    ext = extension_of(filename)
    if ext is not None and ext not in sniffed.extensions:
        raise EvidenceError("extension_mismatch", f"the name ends in .{ext} but the content is "
                            f"{sniffed.name.upper()}; rename it to .{sniffed.extensions[0]} or send the right file")
    return sniffed


# ---------------------------------------------------------------------------------- polyglots
def _jpeg_end(data: bytes) -> int | None:
    """Offset just past the EOI marker that ends the image, walking segments and entropy-coded data."""
    pos, size = 2, len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        pos += 2 + length
        if marker == 0xDA:  # start of scan: skip entropy-coded data up to the next real marker
            while pos + 1 < size:
                nxt = data.find(b"\xff", pos)
                if nxt < 0 or nxt + 1 >= size:
                    return None
                follower = data[nxt + 1]
                if follower == 0x00 or 0xD0 <= follower <= 0xD7 or follower == 0xFF:
                    pos = nxt + (2 if follower != 0xFF else 1)
                    continue
                pos = nxt
                break
    return None


def _png_end(data: bytes) -> int | None:
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos
    return None


def _riff_end(data: bytes) -> int | None:
    if data[:4] != b"RIFF" or len(data) < 8:
        return None
    (size,) = struct.unpack("<I", data[4:8])
    return 8 + size + (size & 1)


def logical_end(data: bytes, sniffed: SniffedType) -> int | None:
    """Where the format says the file ends (None when the format has no cheap end marker or it is missing)."""
    if sniffed is JPEG:
        return _jpeg_end(data)
    if sniffed is PNG:
        return _png_end(data)
    if sniffed in (WEBP, WAV):
        return _riff_end(data)
    return None


def check_polyglot(data: bytes, sniffed: SniffedType) -> None:
    """Refuse a file that is also another document: data after the logical end, a ZIP directory, or
    markup/PDF content hidden in metadata."""
    end = logical_end(data, sniffed)
    if end is not None and len(data) - end > _MAX_TRAILING and any(data[end:]):
        raise EvidenceError("polyglot", f"the file has {len(data) - end} bytes of other data after the end of the "
                            f"{sniffed.name.upper()} content (an appended file or a polyglot); export the "
                            "original again and send only that")
    if _ZIP_END in data[-65_558:]:
        raise EvidenceError("polyglot", f"the file is both {sniffed.name.upper()} and a ZIP archive (a polyglot); "
                            "send the plain photo or recording")
    found = _ACTIVE_MARKUP.search(data)
    marker = found.group(0) if found else next((m for m in _ACTIVE_EXACT if m in data), None)
    if marker is not None:
        raise EvidenceError("polyglot", f"the file hides {marker.decode(errors='replace').strip()!r} content inside "
                            f"its {sniffed.name.upper()} data (a polyglot); send the plain photo or recording")
