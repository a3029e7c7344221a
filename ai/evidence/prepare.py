"""One evidence file made ready to store, the same for the API and the demo data: a polyglot refused, a
photo re-encoded without EXIF (what the EXIF said kept as facts), a recording decoded to the end and
measured. Raises EvidenceError with the problem."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ai.evidence import audio, images
from ai.evidence.sniff import MediaKind, SniffedType, check_polyglot

# the columns of app.certification_evidence that hold what a file showed (None where it shows nothing)
FACT_COLUMNS = ("width", "height", "exif_taken_at", "exif_lat", "exif_lon", "duration_s", "sample_rate", "channels")


@dataclass(frozen=True)
class PreparedEvidence:
    kind: MediaKind
    sha256: str  # of the file as received
    stored: bytes  # what is stored: the re-encoded photo, or the recording as received
    stored_ext: str
    content_type: str
    facts: dict[str, Any]  # every FACT_COLUMNS key


def prepare_evidence(data: bytes, sniffed: SniffedType, max_seconds: float = audio.MAX_SECONDS) -> PreparedEvidence:
    check_polyglot(data, sniffed)
    digest = hashlib.sha256(data).hexdigest()
    facts: dict[str, Any] = dict.fromkeys(FACT_COLUMNS)
    if sniffed.kind is MediaKind.IMAGE:
        prepared = images.prepare_image(data, sniffed)
        facts.update(width=prepared.width, height=prepared.height, exif_taken_at=prepared.exif.taken_at,
                     exif_lat=prepared.exif.lat, exif_lon=prepared.exif.lon)
        return PreparedEvidence(sniffed.kind, digest, prepared.stored, "jpg", "image/jpeg", facts)
    measured = audio.measure(data, sniffed, max_seconds)  # decodes to the end: truncation shows here
    facts.update(duration_s=measured.duration_s, sample_rate=measured.sample_rate, channels=measured.channels)
    return PreparedEvidence(sniffed.kind, digest, data, sniffed.extensions[0], sniffed.mime, facts)
