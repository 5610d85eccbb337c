"""Safe by default: `make run` serves without DEBUG unless asked, and every
error a visitor can meet is the site's own page (JSON under /api/ and
/_allauth/), never Django's technical pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client, RequestFactory

from config.views import server_error
from tests.community.factories import UserFactory
from tests.config.test_settings import run_fresh

pytestmark = pytest.mark.django_db

PRINT_DEBUG = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
    "static_from_source": settings.WHITENOISE_USE_FINDERS,
}))
"""


def local_settings(**environment) -> dict:
    result = run_fresh(
        ["-c", PRINT_DEBUG],
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL="postgresql://agentry@db.internal/agentry",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_make_run_serves_without_debug_unless_asked():
    """`make run`'s settings: DEBUG off, so no visitor sees a traceback or the
    list of URL patterns; this machine's names still served, and static files
    straight from the source folders. DJANGO_DEBUG=1 turns it on."""
    default = local_settings()
    assert default == {
        "debug": False,
        "hosts": ["127.0.0.1", "localhost"],
        "static_from_source": True,
    }
    assert local_settings(DJANGO_DEBUG="1")["debug"] is True
    assert local_settings(DEBUG="1")["debug"] is True


def branded(response) -> str:
    """The page's text, checked to be the site's own (its stylesheet and
    name), not Django's bare or technical page."""
    text = response.content.decode()
    assert "css/site.css" in text, text
    assert "Agentry" in text
    assert "Traceback" not in text
    return text


def test_a_page_staff_only_may_see_is_a_branded_403(client):
    """Signed in without staff status, the admin's door answers the site's
    403 page; asked for JSON, a JSON 403."""
    client.force_login(UserFactory())

    page = client.get("/admin/login/")

    assert page.status_code == 403
    assert "You may not see this page" in branded(page)
    as_json = client.get("/admin/login/", HTTP_ACCEPT="application/json")
    assert as_json.status_code == 403
    assert as_json.json() == {
        "detail": "You do not have permission to perform this action."
    }


def test_a_form_without_its_csrf_token_is_a_branded_403():
    """A form posted without its token (an old tab, a cross-site post) is
    told to reload, on the site's page; the browser API answers JSON."""
    client = Client(enforce_csrf_checks=True)

    page = client.post("/accounts/login/", {"login": "someone", "password": "x"})

    assert page.status_code == 403
    assert "Reload the page" in branded(page)
    api = client.post(
        "/_allauth/browser/v1/auth/login",
        {"username": "someone", "password": "x"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert api["Content-Type"] == "application/json"
    assert "CSRF" in api.json()["detail"]


def test_errors_rendered_without_the_request_are_the_sites_pages_too(client):
    """An unknown Host header is refused with the site's 400 page, and a
    server error shows its 500 page; both render without the request or
    context processors (the request is not to be trusted, or they may be what
    broke). Under /api/ the 400 is JSON."""
    page = client.get("/", HTTP_HOST="evil.example.com")

    assert page.status_code == 400
    assert "could not understand" in branded(page)
    api = client.get("/api/v1/agents/", HTTP_HOST="evil.example.com")
    assert api.status_code == 400
    assert api.json() == {"detail": "Bad request."}
    error = server_error(RequestFactory().get("/agents/"))
    assert error.status_code == 500
    assert "Something went wrong" in branded(error)
