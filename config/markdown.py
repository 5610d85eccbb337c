"""User markdown to safe HTML, for every text people write for others to read
(agent descriptions, comments, bios, messages).

markdown-it-py renders CommonMark with raw HTML turned off (it is shown as
text), then nh3 (the Ammonia sanitizer) keeps only a small set of tags and
attributes, so no script, event handler, style or ``javascript:`` link
survives whatever the input. Links open safely (``rel="nofollow noopener
noreferrer"``) and only with http, https or mailto.
"""

from __future__ import annotations

import html

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

# "js-default": no raw HTML, safe link validation, typographer off.
_markdown = MarkdownIt("js-default").enable(["table", "strikethrough"])


def _demote_headings(html: str) -> str:
    """A user's ``# Title`` must not compete with the page's own headings."""
    for level in (2, 1):
        html = html.replace(f"<h{level}>", f"<h{level + 2}>").replace(
            f"</h{level}>", f"</h{level + 2}>"
        )
    return html


def render_markdown(text: str | None) -> SafeString:
    """Markdown in, sanitized HTML out (safe to put in a template as is)."""
    if not text:
        return mark_safe("")
    rendered = _demote_headings(_markdown.render(text))
    clean = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 (sanitized by nh3 just above)


def plain_text(text: str | None, *, limit: int = 200) -> str:
    """Markdown as plain text (for summaries, titles, emails), shortened."""
    if not text:
        return ""
    stripped = " ".join(
        html.unescape(nh3.clean(_markdown.render(text), tags=set())).split()
    )
    return stripped if len(stripped) <= limit else stripped[: limit - 1] + "…"
