"""Nothing private is served by its path: uploads leave only through their
owner's download, in any mode; avatars, which are public, have their own
route, with DEBUG off as on, and it reaches nothing but avatars.

config/urls.py reads DEBUG when it is imported, so each mode is checked
against the URLs it builds with DEBUG off and with DEBUG on.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import clear_url_caches
from rest_framework.test import APIClient

import config.urls
from community.services import profile_update
from files.models import File
from tests.community.factories import UserFactory
from tests.community.images import upload

pytestmark = pytest.mark.django_db

SECRET = b"# Plans\n\nThe private launch codes are 0000.\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@contextmanager
def urls_built_with(*, debug: bool):
    """The site as config/urls.py builds it with DEBUG set so."""
    try:
        with override_settings(DEBUG=debug):
            importlib.reload(config.urls)
            clear_url_caches()
            yield
    finally:
        # Back to the URLs of the suite's own settings.
        importlib.reload(config.urls)
        clear_url_caches()


MODES = (False, True)


def uploaded(owner) -> File:
    """A file uploaded as a person uploads one, through the API."""
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(
        "/api/v1/files/upload/",
        {"file": SimpleUploadedFile("plans.md", SECRET)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return File.objects.get(pk=response.json()["id"])


def content(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_an_upload_is_never_served_by_its_path_in_any_mode():
    """The storage path of a real upload answers 404, with DEBUG off or on,
    to a visitor and to the owner alike; the owner downloads it through the
    download view only."""
    owner = UserFactory()
    file = uploaded(owner)
    path = file.blob.url
    assert path.startswith("/media/files/")
    signed_in = Client()
    signed_in.force_login(owner)

    for debug in MODES:
        with urls_built_with(debug=debug):
            for client in (Client(), signed_in):
                for url in (path, path.rsplit("/", 2)[0] + "/"):
                    response = client.get(url)
                    assert response.status_code == 404, (debug, url)
                    assert SECRET not in content(response)
            download = signed_in.get(f"/files/{file.pk}/download/")
            assert content(download) == SECRET


def test_an_avatar_is_served_to_anyone_with_debug_off_as_on():
    """Avatars are public: a visitor gets the stored WebP from the URL the
    profile page shows, typed, not sniffable, and cacheable."""
    owner = UserFactory()
    profile = profile_update(user=owner, avatar=upload())
    url = profile.avatar.url
    stored = profile.avatar.read()

    for debug in MODES:
        with urls_built_with(debug=debug):
            page = Client().get(f"/u/{owner.username}/")
            response = Client().get(url)

        assert f'src="{url}"' in page.content.decode()
        assert response.status_code == 200, debug
        assert content(response) == stored
        assert response["Content-Type"] == "image/webp"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "public, max-age=86400"
        assert "Set-Cookie" not in response


def test_the_avatar_route_reaches_nothing_but_avatars_in_any_mode():
    """Paths that climb out of the avatars folder, however spelled, and files
    there that are not avatars, answer 404 with DEBUG off or on."""
    owner = UserFactory()
    file = uploaded(owner)
    default_storage.save("avatars/page.html", ContentFile(b"<script>x()</script>"))
    default_storage.save("avatars/.hidden.webp", ContentFile(b"RIFF"))
    climbs = [
        f"/media/avatars/../{file.blob.name}",
        f"/media/avatars/%2e%2e/{file.blob.name}",
        "/media/avatars/..%2F" + file.blob.name.replace("/", "%2F"),
        "/media/avatars/..",
        "/media/avatars/page.html",
        "/media/avatars/.hidden.webp",
    ]

    for debug in MODES:
        with urls_built_with(debug=debug):
            for url in climbs:
                response = Client().get(url)
                assert response.status_code == 404, (debug, url)
                assert SECRET not in content(response)
                assert b"<script>x()" not in content(response)
