"""Markdown of community posts and comments → safe HTML.

Two layers, so one mistake is not enough for an injection: markdown-it-py renders with raw HTML
turned off (a `<script>` in the source comes out as text), and nh3 (the Rust `ammonia` sanitizer)
then keeps only an allow-list of tags and attributes, drops every `style` and `on*` attribute,
allows links to http, https and mailto only, and marks every link `rel="nofollow noopener ugc"`
(user-generated content: no search-engine credit for spammers, no window.opener for the target).
Images are kept only when they point at the platform's own uploaded community images; any other
`src` is dropped (an external image is a tracking pixel in disguise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

LINK_REL = "nofollow noopener ugc"
URL_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_PREFIX = "/community/images/"  # what the upload endpoint hands out
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
_LINK = re.compile(r"<a\s", re.IGNORECASE)
_IMAGE_KEY = re.compile(r"^/community/images/[0-9a-f-]{36}\.(?:jpeg|png|webp)$")


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str  # the visible text (for search, the spam screen and previews)
    link_count: int


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # commonmark with raw HTML off, plus GFM tables and strikethrough; linkify needs linkify-it-py,
    # which is not installed, and bare URLs stay plain text, which is the safer default anyway
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(["table", "strikethrough"])


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not _IMAGE_KEY.match(value):
        return None
    return value


def sanitize_html(html: str) -> str:
    """The allow-list pass alone (also for HTML from anywhere else, e.g. an imported post)."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                     clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
                     url_schemes=set(URL_SCHEMES), link_rel=LINK_REL, strip_comments=True,
                     attribute_filter=_attribute_filter)


def plain_text(html: str) -> str:
    """Visible text of sanitized HTML: tags removed, entities decoded, whitespace collapsed."""
    import html as html_module

    return " ".join(html_module.unescape(nh3.clean(html, tags=set())).split())


def render_markdown(source: str) -> Rendered:
    """Markdown → sanitized HTML, its plain text and how many links it holds."""
    html = sanitize_html(_parser().render(source))
    return Rendered(html=html, text=plain_text(html), link_count=len(_LINK.findall(html)))
