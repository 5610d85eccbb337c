"""Downloading an upload: its owner only, as an attachment no browser renders
and no shared cache keeps, from the page and the API alike."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from agents.tools.file_search import file_search
from files import selectors, services
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from tests.files.factories import add_file, signed_in

pytestmark = pytest.mark.django_db

NOTES = "# Tea\n\nGreen tea is steeped at 80 degrees for two minutes."


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def page_url(file) -> str:
    return f"/files/{file.pk}/download/"


def api_url(file) -> str:
    return f"/api/v1/files/{file.pk}/download/"


def test_the_owner_downloads_a_file_as_a_private_attachment():
    """The page and the API send the stored bytes under the original name, as
    an attachment of the kind's type, not to be sniffed or kept by a cache."""
    owner = UserFactory()
    file = add_file(owner, "tea.md", NOTES)

    for response in (
        signed_in(owner).get(page_url(file)),
        api(owner).get(api_url(file)),
    ):
        assert response.status_code == 200
        assert body(response) == NOTES.encode()
        assert response["Content-Disposition"] == 'attachment; filename="tea.md"'
        assert response["Content-Type"] == "text/markdown"
        assert response["X-Content-Type-Options"] == "nosniff"
        cache_control = response["Cache-Control"]
        assert "private" in cache_control
        assert "no-store" in cache_control


def test_only_the_owner_gets_the_bytes():
    """A stranger and staff get 404 (as for the file's page); a visitor is
    asked to sign in, or gets 401 from the API."""
    owner = UserFactory()
    file = add_file(owner, "tea.md", NOTES)
    staff = UserFactory(is_staff=True, is_superuser=True)

    assert signed_in(owner).get(page_url(file)).status_code == 200
    for person in (UserFactory(), staff):
        assert signed_in(person).get(page_url(file)).status_code == 404
        assert api(person).get(api_url(file)).status_code == 404
    visitor = Client().get(page_url(file))
    assert visitor.status_code == 302
    assert visitor["Location"].startswith("/accounts/login/")
    assert api().get(api_url(file)).status_code == 401


def test_a_reader_of_a_public_agent_searches_its_files_but_cannot_download_them():
    """The owner's public agent searches the attached file for anyone who runs
    it; that never makes the file downloadable by them."""
    owner = UserFactory()
    reader = UserFactory()
    file = add_file(owner, "tea.md", NOTES)
    agent = make_agent(
        owner, name="Tea helper", visibility="public", tools=["file_search"]
    )
    services.attachment_add(agent=agent, user=owner, file_id=file.pk)

    scope = selectors.agent_file_scope(agent_id=agent.pk, owner_id=agent.owner_id)
    found = json.loads(file_search({"query": "green tea", "k": 3}, scope))
    assert "Green tea is steeped" in json.dumps(found)

    assert signed_in(owner).get(page_url(file)).status_code == 200
    assert signed_in(reader).get(page_url(file)).status_code == 404
    assert api(reader).get(api_url(file)).status_code == 404
    assert selectors.file_get_downloadable(user=reader, file_id=file.pk) is None


def test_quotes_and_line_breaks_in_a_name_stay_inside_the_header():
    """A name is the uploader's: it is escaped or percent-encoded, never able
    to end the header or add another."""
    owner = UserFactory()
    quoted = add_file(owner, 'say "hi".md', NOTES)
    broken = add_file(owner, 'a"\r\nSet-Cookie: stolen=1\r\n.md', NOTES + " Again.")

    response = signed_in(owner).get(page_url(quoted))
    assert response["Content-Disposition"] == r'attachment; filename="say \"hi\".md"'

    response = signed_in(owner).get(page_url(broken))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''a%22%0D%0ASet-Cookie%3A%20stolen%3D1%0D%0A.md"
    )
    assert "stolen" not in response.cookies


def test_an_html_upload_is_never_sent_as_html():
    owner = UserFactory()
    file = add_file(
        owner,
        "page.html",
        "<html><body><script>alert(1)</script></body></html>",
        kind="html",
    )

    response = signed_in(owner).get(page_url(file))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_whose_bytes_are_gone_from_storage_is_a_404_not_an_error():
    owner = UserFactory()
    file = add_file(owner, "tea.md", NOTES)
    assert signed_in(owner).get(page_url(file)).status_code == 200
    file.blob.storage.delete(file.blob.name)

    assert signed_in(owner).get(page_url(file)).status_code == 404
    assert api(owner).get(api_url(file)).status_code == 404


def test_the_admin_names_a_stored_file_without_linking_to_its_bytes():
    """Staff see where a file is stored, but the admin offers no link to the
    bytes: they are the owner's to download."""
    file = add_file(UserFactory(), "tea.md", NOTES)
    staff = UserFactory(is_staff=True, is_superuser=True)

    page = signed_in(staff).get(f"/admin/files/file/{file.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert file.blob.name in html
    assert f'href="{file.blob.url}"' not in html
