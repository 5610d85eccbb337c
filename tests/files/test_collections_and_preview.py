"""Chunk previews (before uploading, and of a stored file with other
settings), moving files between collections, and deleting collections: over
the API and on the pages, each only for the owner."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from files.models import Attachment, Chunk, Collection, File
from files.services import collection_create
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from tests.files.factories import add_file, signed_in

pytestmark = pytest.mark.django_db

# Eight paragraphs of about 45 tokens each.
LONG = "\n\n".join(
    f"# Part {n}\n\nSection {n} explains how the quarterly solar turbine reduces "
    f"the maintenance budget during the winter months, why the night shift "
    f"inspects it after each storm, and who signs the report number {n}."
    for n in range(1, 9)
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --- previews -----------------------------------------------------------------


def test_a_preview_before_upload_chunks_the_file_and_stores_nothing(as_user):
    client = as_user(UserFactory())
    small = client.post(
        "/api/v1/files/preview/",
        {
            "file": SimpleUploadedFile("notes.md", LONG.encode()),
            "chunk_size": 64,
            "chunk_overlap": 0,
        },
        format="multipart",
    )
    assert small.status_code == 200, small.content
    body = small.json()
    assert body["chunk_size"] == 64
    assert body["chunk_overlap"] == 0
    # One chunk per heading's section at 64 tokens; the text is the file's own.
    assert body["total"] == 8
    assert [chunk["heading"] for chunk in body["chunks"]][:2] == ["Part 1", "Part 2"]
    assert "who signs the report number 1." in body["chunks"][0]["text"]
    assert all(chunk["token_count"] <= 64 for chunk in body["chunks"])
    tiny = client.post(
        "/api/v1/files/preview/",
        {"file": SimpleUploadedFile("notes.md", LONG.encode()), "chunk_size": 32},
        format="multipart",
    ).json()
    assert tiny["total"] > body["total"]
    # The default overlap (40) shrinks to a fifth of a smaller chunk size.
    assert tiny["chunk_overlap"] == 6
    assert not File.objects.exists()
    assert not Chunk.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"file": SimpleUploadedFile("a.md", b"")}, "file", "is empty"),
        ({"file": SimpleUploadedFile("a.png", PNG)}, "file", ""),
        ({}, "file", "Choose a file"),
        (
            {"file": SimpleUploadedFile("a.md", LONG.encode()), "chunk_size": 5000},
            "chunk_size",
            "Between",
        ),
        (
            {
                "file": SimpleUploadedFile("a.md", LONG.encode()),
                "chunk_size": 64,
                "chunk_overlap": 40,
            },
            "chunk_overlap",
            "less than half",
        ),
        (
            {"file": SimpleUploadedFile("a.md", LONG.encode()), "chunk_size": "x"},
            "chunk_size",
            "",
        ),
    ],
)
def test_a_bad_preview_is_a_field_error(as_user, fields, field, message):
    response = as_user(UserFactory()).post(
        "/api/v1/files/preview/", fields, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert message in " ".join(response.json()[field])
    assert not File.objects.exists()


def test_a_stored_file_previews_other_settings_without_changing(as_user):
    owner = UserFactory()
    file = add_file(owner, "notes.md", LONG, chunk_size=256, chunk_overlap=0)
    chunks_before = list(Chunk.objects.filter(file=file).values_list("pk", "text"))
    client = as_user(owner)
    same = client.post(f"/api/v1/files/{file.pk}/preview/", {}, format="json").json()
    assert same["total"] == file.chunk_count
    assert [c["text"] for c in same["chunks"]] == [text for _pk, text in chunks_before]
    smaller = client.post(
        f"/api/v1/files/{file.pk}/preview/", {"chunk_size": 32}, format="json"
    ).json()
    assert smaller["chunk_size"] == 32
    assert smaller["chunk_overlap"] == 0
    assert smaller["total"] > file.chunk_count
    file.refresh_from_db()
    assert file.chunk_size == 256
    assert list(Chunk.objects.filter(file=file).values_list("pk", "text")) == (
        chunks_before
    )
    bad = client.post(
        f"/api/v1/files/{file.pk}/preview/", {"chunk_size": 8}, format="json"
    )
    assert bad.status_code == 400
    assert "chunk_size" in bad.json()
    stranger = as_user(UserFactory()).post(
        f"/api/v1/files/{file.pk}/preview/", {}, format="json"
    )
    assert stranger.status_code == 404


def test_the_file_page_previews_chunks_under_the_form():
    owner = UserFactory()
    file = add_file(owner, "notes.md", LONG, chunk_size=256, chunk_overlap=0)
    client = signed_in(owner)
    page = client.get(f"/files/{file.pk}/")
    assert f'hx-post="/files/{file.pk}/preview/"'.encode() in page.content
    preview = client.post(
        f"/files/{file.pk}/preview/",
        {"chunk_size": 64, "chunk_overlap": 0},
        headers={"HX-Request": "true"},
    )
    text = preview.content.decode()
    assert "this file makes 8 chunks" in text
    assert "Nothing changes until you read it again" in text
    assert "who signs the report number 1." in text
    wrong = client.post(f"/files/{file.pk}/preview/", {"chunk_size": 9})
    assert "Between 32 and 512 tokens." in wrong.content.decode()
    other = signed_in(UserFactory()).post(f"/files/{file.pk}/preview/", {})
    assert other.status_code == 404


# --- collections --------------------------------------------------------------


def test_files_move_between_their_owners_collections_only(as_user):
    owner, other = UserFactory(), UserFactory()
    mine = collection_create(owner=owner, name="Policies")
    theirs = collection_create(owner=other, name="Theirs")
    file = add_file(owner, "tea.md", "Green tea is steeped at 80 degrees.")
    client = as_user(owner)
    moved = client.patch(
        f"/api/v1/files/{file.pk}/", {"collection": mine.pk}, format="json"
    )
    assert moved.status_code == 200
    assert moved.json()["collection"] == mine.pk
    refused = client.patch(
        f"/api/v1/files/{file.pk}/", {"collection": theirs.pk}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {"collection": ["You have no such collection."]}
    file.refresh_from_db()
    assert file.collection_id == mine.pk
    missing = client.patch(f"/api/v1/files/{file.pk}/", {}, format="json")
    assert missing.status_code == 400
    assert "collection" in missing.json()
    out = client.patch(f"/api/v1/files/{file.pk}/", {"collection": None}, format="json")
    assert out.status_code == 200
    assert out.json()["collection"] is None
    stranger = as_user(other).patch(
        f"/api/v1/files/{file.pk}/", {"collection": theirs.pk}, format="json"
    )
    assert stranger.status_code == 404
    listed = as_user(owner).get("/api/v1/files/collections/").json()["results"]
    assert [(c["name"], c["file_count"]) for c in listed] == [("Policies", 0)]


def test_deleting_a_collection_keeps_its_files_and_detaches_it(as_user):
    owner = UserFactory()
    collection = collection_create(owner=owner, name="Policies")
    file = add_file(owner, "tea.md", "Green tea.", collection=collection)
    agent = make_agent(owner, tools=["file_search"])
    Attachment.objects.create(agent=agent, collection=collection)
    assert (
        as_user(UserFactory())
        .delete(f"/api/v1/files/collections/{collection.pk}/")
        .status_code
        == 404
    )
    client = as_user(owner)
    shown = client.get(f"/api/v1/files/collections/{collection.pk}/").json()
    assert shown["file_count"] == 1
    assert (
        client.delete(f"/api/v1/files/collections/{collection.pk}/").status_code == 204
    )
    assert not Collection.objects.filter(pk=collection.pk).exists()
    file.refresh_from_db()
    assert file.collection_id is None
    assert file.chunk_count > 0
    assert not Attachment.objects.filter(agent=agent).exists()


def test_the_files_page_makes_filters_and_deletes_collections():
    owner = UserFactory()
    client = signed_in(owner)
    made = client.post("/files/collections/", {"name": "Policies"}, follow=True)
    collection = Collection.objects.get(owner=owner)
    assert made.redirect_chain[-1][0] == f"/files/?collection={collection.pk}"
    assert "Collection Policies made." in made.content.decode()
    twice = client.post("/files/collections/", {"name": "policies"}, follow=True)
    assert "You have a collection by that name." in twice.content.decode()
    inside = add_file(owner, "in.md", "Inside the collection.", collection=collection)
    add_file(owner, "out.md", "Outside it.")
    # The list an upload refreshes brings the collections' counts along.
    refresh = client.get(
        f"/files/?partial=list&collection={collection.pk}",
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'id="collection-chips" hx-swap-oob="true"' in refresh
    assert re.search(r'Policies <small class="muted">1</small>', refresh)
    assert "in.md" in refresh
    filtered = client.get(f"/files/?collection={collection.pk}").content.decode()
    assert "in.md" in filtered
    assert "out.md" not in filtered
    assert 'aria-current="page"' in filtered
    everything = client.get("/files/").content.decode()
    assert "in.md" in everything
    assert "out.md" in everything
    other = collection_create(owner=UserFactory(), name="Not yours")
    assert client.get(f"/files/?collection={other.pk}").status_code == 404
    assert client.post(f"/files/collections/{other.pk}/delete/").status_code == 404
    moved = client.post(f"/files/{inside.pk}/collection/", {"collection": ""})
    assert moved.status_code == 302
    inside.refresh_from_db()
    assert inside.collection_id is None
    gone = client.post(f"/files/collections/{collection.pk}/delete/", follow=True)
    assert "its files are still here" in gone.content.decode()
    assert File.objects.filter(owner=owner).count() == 2
