"""User markdown comes out as sanitized HTML: formatting kept, nothing that
runs survives."""

from html.parser import HTMLParser

import pytest

from config.markdown import ALLOWED_TAGS, plain_text, render_markdown

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "<iframe src=//evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


class Elements(HTMLParser):
    """Every element and attribute of the rendered HTML (text is not markup,
    however it reads)."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("text", ATTACKS)
def test_nothing_that_runs_survives(text):
    for tag, attrs in Elements(render_markdown(text)).tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            assert name != "style"
            assert not (value or "").lower().strip().startswith(("javascript", "data"))


def test_formatting_is_kept_and_headings_are_demoted():
    html = render_markdown("# Title\n\n**bold** and *it* and `code`\n\n- one\n- two")
    assert "<h3>Title</h3>" in html
    assert "<strong>bold</strong>" in html
    assert "<em>it</em>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html


def test_links_are_kept_safely():
    html = render_markdown("[docs](https://example.com/a?b=1)")
    assert 'href="https://example.com/a?b=1"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_plain_text_for_summaries():
    assert plain_text("# Hi **there** & <b>you</b>") == "Hi there & <b>you</b>"
    assert plain_text("word " * 100, limit=20).endswith("…")
    assert len(plain_text("word " * 100, limit=20)) == 20
    assert render_markdown("") == ""
    assert plain_text(None) == ""
