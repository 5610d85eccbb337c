"""The Files pages: the list and its upload form, a file with its chunks,
search with citations, and the files section of an agent's page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from files.models import Attachment, File
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from tests.files.factories import add_file, signed_in

pytestmark = pytest.mark.django_db

NOTES = "# Tea\n\nGreen tea is steeped at 80 degrees for two minutes."


def test_visitors_are_asked_to_log_in():
    page = Client().get("/files/")
    assert page.status_code == 200
    assert b"to upload and search your files" in page.content
    assert Client().get("/files/search/?q=tea").status_code == 302


def test_the_form_uploads_several_files_and_reports_each_problem():
    owner = UserFactory()
    client = signed_in(owner)
    response = client.post(
        "/files/upload/",
        {
            "files": [
                SimpleUploadedFile("tea.md", NOTES.encode()),
                SimpleUploadedFile("coffee.txt", b"Coffee is brewed at 93 degrees."),
                SimpleUploadedFile("empty.txt", b""),
            ]
        },
        follow=True,
    )
    assert response.status_code == 200
    assert sorted(File.objects.filter(owner=owner).values_list("name", flat=True)) == [
        "coffee.txt",
        "tea.md",
    ]
    text = response.content.decode()
    assert "empty.txt: empty.txt is empty." in text
    assert "tea.md" in text
    assert 'id="drop-zone"' in text


def test_a_file_page_shows_its_chunks_to_its_owner_only():
    owner = UserFactory()
    file = add_file(owner, "tea.md", NOTES)
    page = signed_in(owner).get(f"/files/{file.pk}/")
    assert page.status_code == 200
    assert b"Green tea is steeped" in page.content
    assert signed_in(UserFactory()).get(f"/files/{file.pk}/").status_code == 404
    deleted = signed_in(UserFactory()).post(f"/files/{file.pk}/delete/")
    assert deleted.status_code == 404
    assert File.objects.filter(pk=file.pk).exists()


def test_search_cites_the_file_and_escapes_its_text():
    owner = UserFactory()
    add_file(owner, "tea.md", NOTES + "\n\n<script>alert(1)</script> brewing notes")
    page = signed_in(owner).get("/files/search/?q=how hot should green tea water be")
    text = page.content.decode()
    assert "tea.md" in text
    assert "Green tea is steeped" in text
    assert "<script>alert(1)</script>" not in text
    other = signed_in(UserFactory()).get("/files/search/?q=green tea").content
    assert b"Green tea is steeped" not in other
    assert b"You have no files yet" in other


def test_the_agent_page_section_attaches_and_detaches_files():
    owner = UserFactory()
    file = add_file(owner, "tea.md", NOTES)
    agent = make_agent(owner, name="Tea helper", tools=["file_search"])
    client = signed_in(owner)
    section = client.get(f"/agents/{agent.pk}/files/", HTTP_HX_REQUEST="true")
    assert b"No files attached." in section.content
    assert b"tea.md" in section.content
    attached = client.post(
        f"/agents/{agent.pk}/files/",
        {"target": f"file:{file.pk}"},
        HTTP_HX_REQUEST="true",
    )
    assert attached.status_code == 200
    assert Attachment.objects.filter(agent=agent, file=file).exists()
    assert b"Detach" in attached.content
    client.post(
        f"/agents/{agent.pk}/files/", {"detach_file": file.pk}, HTTP_HX_REQUEST="true"
    )
    assert not Attachment.objects.filter(agent=agent).exists()
    # Nobody else sees or changes it, even on a public agent.
    agent.visibility = "public"
    agent.save(update_fields=["visibility"])
    stranger = signed_in(UserFactory())
    assert stranger.get(f"/agents/{agent.pk}/files/").status_code == 404
    assert (
        stranger.post(
            f"/agents/{agent.pk}/files/", {"target": f"file:{file.pk}"}
        ).status_code
        == 404
    )
