"""The Content-Security-Policy: every page carries it, and no template needs
it loosened (no inline script, event handler, eval-ed htmx attribute or
inline style). The browser tests fail on any violation the policy reports."""

import re
from pathlib import Path

import pytest
from csp.decorators import csp_update
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from config.csp import ContentSecurityPolicyMiddleware
from config.settings.components.csp import _DIRECTIVES

BASE_DIR = Path(__file__).resolve().parents[2]

# Each pattern: something in a template that a policy without 'unsafe-inline'
# or 'unsafe-eval' blocks.
INLINE_CODE = {
    # A script element without src runs inline (JSON data blocks do not run).
    "inline script": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*type=[\"']application/(ld\+)?json)[^>]*>",
        re.IGNORECASE,
    ),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    # htmx evaluates these with Function(): allowEval is off in base.html.
    "hx-on attribute": re.compile(r"\s(hx|data-hx)-on[:-]", re.IGNORECASE),
    "js: value": re.compile(r"\s(hx|data-hx)-(vals|vars|headers)=[\"']\s*js:"),
    "javascript: URL": re.compile(r"[\"']\s*javascript:", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
}


def page_templates() -> list[Path]:
    """Agentry's own templates: templates/ and each app's templates/."""
    return sorted(
        path
        for pattern in ("templates/**/*.html", "*/templates/**/*.html")
        for path in BASE_DIR.glob(pattern)
        if not path.relative_to(BASE_DIR).parts[0].startswith(".")
    )


TEMPLATE_COMMENT = re.compile(
    r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.DOTALL
)


def inline_code(text: str) -> list[str]:
    """Name each kind of inline code found in a template's text, with its line.
    Template comments, which never reach the browser, are skipped."""
    text = TEMPLATE_COMMENT.sub(lambda match: "\n" * match[0].count("\n"), text)
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        found.extend(
            f"line {number}: {kind}"
            for kind, pattern in INLINE_CODE.items()
            if pattern.search(line)
        )
    return found


@pytest.mark.parametrize(
    ("snippet", "kind"),
    [
        ("<script>alert(1)</script>", "inline script"),
        ('<script type="module">go()</script>', "inline script"),
        ('<form onsubmit="return confirm(1)">', "event handler attribute"),
        ('<button type="button" onClick="go()">', "event handler attribute"),
        ('<form hx-on::after-request="this.reset()">', "hx-on attribute"),
        ('<div hx-on-click="go()">', "hx-on attribute"),
        ("<div hx-vals='js:{a: go()}'>", "js: value"),
        ('<a href="javascript:go()">', "javascript: URL"),
        ("<style>main { margin: 0 }</style>", "style element"),
        ('<div class="lanes" style="--lanes: 3">', "style attribute"),
    ],
)
def test_the_scan_finds_each_kind_of_inline_code(snippet, kind):
    """The template scan below would catch each thing the policy blocks."""
    assert inline_code(snippet) == [f"line 1: {kind}"]


def test_the_scan_counts_lines_past_a_comment():
    text = "{% comment %}\nwhy\n{% endcomment %}\n<p>\n<b style='x'>"

    assert inline_code(text) == ["line 5: style attribute"]


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/site.js" defer></script>',
        '<script id="data" type="application/json">{"a": 1}</script>',
        '<form data-confirm="Delete it?" hx-confirm="Sure?">',
        '<button class="online" data-reset-after-success>',
        '<meta name="htmx-config" content=\'{"allowEval": false}\'>',
        '{% comment %}\n  never style="" or onclick=\n{% endcomment %}<p>',
        "{# no <script> here #}<p>",
    ],
)
def test_the_scan_lets_external_scripts_and_data_attributes_pass(snippet):
    assert inline_code(snippet) == []


def test_no_page_template_has_inline_script_handlers_or_styles():
    """Behaviour lives in static/js/, looks in static/css/: every template
    works under script-src 'self' and style-src 'self'."""
    templates = page_templates()
    assert len(templates) > 50  # the scan sees the apps' templates too
    offenders = {
        str(path.relative_to(BASE_DIR)): found
        for path in templates
        if (found := inline_code(path.read_text()))
    }
    assert offenders == {}


def directives(header: str) -> dict[str, list[str]]:
    return {
        name: sources for name, *sources in (part.split() for part in header.split(";"))
    }


@pytest.mark.django_db
def test_pages_carry_a_policy_of_this_sites_own_scripts_and_styles(client):
    """Scripts and styles only from the site (no inline, no eval), images
    also from data:, never framed, forms only to the site, Stripe's checkout
    and billing portal, objects never."""
    response = client.get("/")

    policy = directives(response.headers["Content-Security-Policy"])
    assert "Content-Security-Policy-Report-Only" not in response.headers
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == [
        "'self'",
        "https://checkout.stripe.com",
        "https://billing.stripe.com",
    ]


@pytest.mark.django_db
def test_it_names_the_websocket_origins_of_the_host_the_page_came_from(client):
    """'self' does not cover ws:/wss: in every browser; the live pages'
    websockets connect to the host that served the page."""
    response = client.get("/discover/", HTTP_HOST="localhost:8000")

    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["connect-src"] == [
        "'self'",
        "ws://localhost:8000",
        "wss://localhost:8000",
    ]


def test_a_views_own_connect_sources_are_kept_beside_the_websocket_ones():
    """A view widening connect-src with django-csp's csp_update (one source
    may be a plain string) keeps it; the host's websocket origins are added."""
    view = csp_update({"connect-src": "https://events.example"})(
        lambda request: HttpResponse("ok")
    )
    middleware = ContentSecurityPolicyMiddleware(view)

    response = middleware(RequestFactory().get("/", HTTP_HOST="localhost"))

    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["connect-src"] == [
        "'self'",
        "https://events.example",
        "ws://localhost",
        "wss://localhost",
    ]


@pytest.mark.django_db
def test_errors_and_api_responses_carry_the_policy_too(client, api_client):
    not_found = client.get("/no-such-page/")
    api = api_client.get("/api/v1/me/")

    assert not_found.status_code == 404
    assert "script-src 'self'" in not_found.headers["Content-Security-Policy"]
    assert api.status_code in {401, 403}
    assert "script-src 'self'" in api.headers["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_disallowed_host_gets_its_400_without_a_websocket_origin(client):
    """The host is not trusted, so it is not echoed into the policy, and
    building the policy does not turn the 400 into a 500."""
    response = client.get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["connect-src"] == ["'self'"]


@pytest.mark.django_db
def test_report_only_mode_sends_the_same_policy_without_enforcing_it(client):
    """CSP_REPORT_ONLY moves the policy to the report-only header (the
    setting's side is in test_settings.py)."""
    with override_settings(
        CONTENT_SECURITY_POLICY=None,
        CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": _DIRECTIVES},
    ):
        response = client.get("/", HTTP_HOST="localhost")

    assert "Content-Security-Policy" not in response.headers
    policy = directives(response.headers["Content-Security-Policy-Report-Only"])
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"]


@pytest.mark.django_db
def test_the_api_docs_load_their_start_up_script_from_the_site(client):
    """Swagger UI's initialisation comes from /api/docs/?script, not an
    inline script or style the policy would block."""
    page = client.get("/api/docs/")
    html = page.content.decode()
    script = client.get("/api/docs/?script=")

    assert page.status_code == 200
    assert inline_code(html) == []
    assert 'src="/api/docs/?script="' in html
    assert "css/api-docs.css" in html
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
