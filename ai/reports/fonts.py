"""NanumGothic, from the koreanize-matplotlib package: no system font is needed anywhere.

matplotlib gets the font registered with its font manager (to measure and place chart text; the SVG
keeps the text as text in NanumGothic, which the PDF embeds). WeasyPrint gets it through the templates'
`fonts/` URLs, which the report URL fetcher
maps onto the package's files (ai.reports.render), so nothing is copied into the source tree.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FAMILY = "NanumGothic"
FILES = {  # the file names the templates refer to under fonts/, as shipped by koreanize-matplotlib
    "regular": "NanumGothic.ttf",
    "bold": "NanumGothicBold.ttf",
    "extra_bold": "NanumGothicExtraBold.ttf",
    "light": "NanumGothicLight.ttf",
}


class FontMissing(RuntimeError):
    """koreanize-matplotlib is not installed (it is in requirements.lock); the message says so."""


@lru_cache
def font_dir() -> Path:
    """The package folder holding the NanumGothic .ttf files."""
    try:
        import koreanize_matplotlib
    except ImportError as exc:
        raise FontMissing("NanumGothic comes from the koreanize-matplotlib package: pip install "
                          "koreanize-matplotlib") from exc
    folder = Path(koreanize_matplotlib.__file__).resolve().parent / "fonts"
    if not (folder / FILES["regular"]).is_file():
        raise FontMissing(f"{folder / FILES['regular']} is missing: reinstall koreanize-matplotlib")
    return folder


def font_file(name: str) -> Path | None:
    """The package file for a templates' font name (e.g. 'NanumGothicBold.ttf'), or None if unknown."""
    if name not in FILES.values():
        return None
    path = font_dir() / name
    return path if path.is_file() else None


@lru_cache
def register_matplotlib() -> str:
    """Register the NanumGothic files with matplotlib (once per process) and make it the default family."""
    import matplotlib
    from matplotlib import font_manager

    for name in FILES.values():
        path = font_dir() / name
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams["font.family"] = FAMILY
    matplotlib.rcParams["axes.unicode_minus"] = False  # NanumGothic has no U+2212 minus glyph
    # text stays text: WeasyPrint draws it with the document's embedded NanumGothic (4× faster to lay out
    # than glyph outlines, and the chart labels remain searchable in the PDF)
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "hometown-reports"  # stable ids: same data, same bytes
    return FAMILY
