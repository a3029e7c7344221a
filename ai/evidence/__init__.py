"""Evidence checks for skill certification: file types from bytes, image and audio measurements,
check results with thresholds, assessment reports, and the perceptual-hash duplicate index.

Plain library code: no Dagster, no FastAPI. The API validates uploads with `sniff`, `images` and
`audio`; the certify assets run `checks` and `assessment` on what was stored.
"""

from ai.evidence.sniff import EvidenceError, MediaKind, SniffedType, sniff

__all__ = ["EvidenceError", "MediaKind", "SniffedType", "sniff"]
