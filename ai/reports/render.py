"""HTML (Jinja2) → PDF (WeasyPrint), fetching nothing outside the templates' own folder.

`TemplateOnlyFetcher` is the only URL fetcher WeasyPrint gets: it serves `data:` URLs (the inline SVG
charts), files under ai/reports/templates/, and the NanumGothic files for `templates/fonts/*.ttf`
from the koreanize-matplotlib package. Anything else (http, https, ftp, file:///etc/passwd, a path
escaping the folder with ..) is refused and stops the rendering with `RefusedResource`: a template
that reaches outside is a defect to fix, not something to skip quietly.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import re
import urllib.parse
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from ai.reports import fonts
from ai.reports.common import josa
from ai.reports.suppression import MARK, fmt

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# bump when a template changes what a document says: part of inputs_hash, so stored documents are made again
TEMPLATE_VERSION = "reports-v2"  # v2: no word joiners in the PDF's Title/Author metadata
MIME = {".css": "text/css", ".ttf": "font/ttf", ".svg": "image/svg+xml", ".png": "image/png", ".html": "text/html"}
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]*)(?P<b64>;base64)?,(?P<data>.*)$", re.S)

log = logging.getLogger(__name__)


class RefusedResource(FatalURLFetchingError):
    """A template asked for something outside the templates' folder (or on the network)."""


class ReportRenderError(RuntimeError):
    """The PDF could not be made; the message says which template and why."""


class TemplateOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher restricted to data: URLs and files inside one folder (no network at all)."""

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        super().__init__(allowed_protocols=("data", "file"), fail_on_errors=True)
        self.root = root.resolve()
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return self._data(url)
        if url.startswith("file:"):
            path = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).resolve()
            served = self._file(path)
            if served is not None:
                self.served.append(str(path))
                return URLFetcherResponse(url, served.read_bytes(),
                                          {"Content-Type": MIME.get(served.suffix, "application/octet-stream")})
        self.refused.append(url)
        raise RefusedResource(f"refused to fetch {url!r}: reports may only use files inside {self.root}")

    def _file(self, path: Path) -> Path | None:
        """The file to serve for a path inside the templates folder (fonts come from the package)."""
        if not path.is_relative_to(self.root):
            return None
        if path.parent == self.root / "fonts" and not path.is_file():
            return fonts.font_file(path.name)
        return path if path.is_file() else None

    @staticmethod
    def _data(url: str) -> URLFetcherResponse:
        match = _DATA_URL.match(url)
        if match is None:
            raise RefusedResource(f"malformed data: URL ({url[:40]}…)")
        raw = match["data"]
        body = base64.b64decode(raw) if match["b64"] else urllib.parse.unquote_to_bytes(raw)
        return URLFetcherResponse(url[:64], body, {"Content-Type": match["mime"] or "text/plain"})


def _number(value: Any, digits: int = 0) -> str:
    return fmt(None if value is None else float(value), digits)


def _percent(value: Any, digits: int = 1) -> str:
    return MARK if value is None else f"{float(value) * 100:.{digits}f}%"


@lru_cache
def environment() -> jinja2.Environment:
    """The Jinja environment of the report templates (autoescaped; undefined names fail loudly)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _number
    env.filters["pct"] = _percent
    env.filters["josa"] = josa
    env.globals["MARK"] = MARK
    return env


WORD_JOINER = "\u2060"
_BETWEEN_HANGUL = re.compile(r"(?<=[\uac00-\ud7a3])(?=[\uac00-\ud7a3])")
_BODY = re.compile(r"<body[\s>]", re.IGNORECASE)


def keep_all(html: str) -> str:
    """Korean line breaking at spaces only (CSS word-break: keep-all, which WeasyPrint does not implement).

    A WORD JOINER (U+2060) between two Hangul syllables forbids a break there; it is invisible, takes no
    width, and is not in the PDF's text, so extraction and search see the words unchanged. Only the body
    is touched: the head's <title> and <meta> become the PDF's Title and Author, which are plain strings
    (a viewer shows the joiners there, and search in a document list would miss the words).
    """
    body = _BODY.search(html)
    start = body.start() if body else 0
    return html[:start] + _BETWEEN_HANGUL.sub(WORD_JOINER, html[start:])


def render_html(template: str, context: dict[str, Any]) -> str:
    return keep_all(environment().get_template(template).render(**context))


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int
    fetched: tuple[str, ...]


@dataclass(frozen=True)
class HouseStyle:
    """style.css parsed once, and the font configuration its @font-face rules registered NanumGothic in.

    Parsing the stylesheet and loading three NanumGothic files into fontconfig cost more than laying out a
    short document, so a process does it once and every report reuses both (Pango's glyph caches stay
    warm too). The fonts are fetched through the same TemplateOnlyFetcher as everything else.
    """

    css: CSS
    font_config: FontConfiguration
    fetched: tuple[str, ...]


_HOUSE: dict[int, HouseStyle] = {}  # by process id: a forked worker builds its own (fontconfig state is per process)


def house_style() -> HouseStyle:
    pid = os.getpid()
    if pid not in _HOUSE:
        fetcher = TemplateOnlyFetcher()
        font_config = FontConfiguration()
        css = CSS(filename=str(TEMPLATES_DIR / "style.css"), base_url=str(TEMPLATES_DIR) + "/",
                  url_fetcher=fetcher, font_config=font_config)
        _HOUSE.clear()
        _HOUSE[pid] = HouseStyle(css, font_config, tuple(fetcher.served))
    return _HOUSE[pid]


def html_to_pdf(html: str, fetcher: TemplateOnlyFetcher | None = None, *, house: bool = False) -> RenderedPdf:
    """Lay out and write the PDF; base URL = the templates folder, so `style.css` and `fonts/…` resolve there.

    With `house`, the process's parsed style.css and font configuration are applied (the report templates
    do not link the stylesheet themselves); without it, the HTML's own links are fetched (through `fetcher`).
    """
    fetcher = fetcher or TemplateOnlyFetcher()
    style = house_style() if house else None
    options: dict[str, Any] = {} if style is None else {"stylesheets": [style.css], "font_config": style.font_config}
    try:
        document = HTML(string=html, base_url=str(TEMPLATES_DIR) + "/", url_fetcher=fetcher).render(**options)
    except RefusedResource as exc:
        raise ReportRenderError(str(exc)) from exc
    except FatalURLFetchingError as exc:  # WeasyPrint wraps the refusal; keep its reason
        cause = exc.__cause__ or exc
        raise ReportRenderError(f"{exc}: {cause}") from exc
    out = io.BytesIO()
    document.write_pdf(out)
    served = (style.fetched if style else ()) + tuple(fetcher.served)
    return RenderedPdf(out.getvalue(), len(document.pages), served)


def font_subsetter() -> str:
    """Which library embeds the fonts' used glyphs: HarfBuzz's subsetter, or WeasyPrint's fontTools fallback
    (correct output, but it parses all of NanumGothic for every document: about 2.5× the cost of a report)."""
    from weasyprint.text.ffi import harfbuzz_subset

    return "harfbuzz" if harfbuzz_subset is not None else "fonttools"


def render_pdf(template: str, context: dict[str, Any]) -> RenderedPdf:
    """A report template to PDF, with the house style (style.css and NanumGothic) loaded once per process."""
    return html_to_pdf(render_html(template, context), house=True)
