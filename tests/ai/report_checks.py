"""Reading a PDF back: text, metadata, embedded fonts, and pages rendered to PNG (pdftoppm) for a look."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_metadata(pdf: bytes) -> dict[str, str]:
    """The document information dictionary (/Title, /Author, …) as plain strings."""
    info = PdfReader(io.BytesIO(pdf)).metadata or {}
    return {str(key): str(value) for key, value in info.items()}


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts embedded as TrueType programs (FontFile2), e.g. 'ABCDEF+NanumGothic'."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for desc_ref in font.get("/DescendantFonts", []):
                descendant = desc_ref.get_object()
                descriptor = descendant["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    names.add(str(descendant["/BaseFont"]).lstrip("/"))
    return names


def render_png(pdf: bytes, folder: Path, prefix: str) -> list[Path]:
    """The pages as PNG (poppler's pdftoppm), for a person to look at; empty when pdftoppm is missing."""
    if shutil.which("pdftoppm") is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{prefix}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(source), str(folder / prefix)], check=True)
    return sorted(folder.glob(f"{prefix}-*.png"))
