"""Uploading and ingesting files: the API, the stages, idempotent
re-ingestion, failures that leave nothing behind, privacy, and a real worker
taking an upload to ready."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.files.uploadedfile import SimpleUploadedFile

from files import services
from files.models import Chunk, Collection, File, FileStatus
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

HANDBOOK = """# Refunds

Customers may return any item within 30 days of delivery for a full refund.
Refunds go back to the original payment method within five business days.
Items must be unused and in their original packaging. Gift cards, opened
software and personalised items cannot be returned. We pay for the return
label when the item arrived damaged or was not what you ordered.

# Shipping

Orders leave the Lisbon warehouse within two business days. Express delivery
reaches most of Europe in 48 hours. Standard delivery takes three to six
business days. Every parcel has a tracking link, sent by email when it leaves
the warehouse. Orders over fifty euros ship free within the European Union.
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(client, name: str, data: bytes, **fields):
    return client.post(
        "/api/v1/files/upload/",
        {"file": SimpleUploadedFile(name, data), **fields},
        format="multipart",
    )


def test_an_upload_is_ingested_into_embedded_searchable_chunks(as_user):
    owner = UserFactory()
    response = upload(as_user(owner), "handbook.md", HANDBOOK.encode())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "processing"
    assert body["stage"] == "uploaded"
    assert body["kind"] == "markdown"
    assert body["size"] == len(HANDBOOK.encode())

    file = services.file_ingest(file_id=body["id"])
    assert file.status == FileStatus.READY
    assert file.progress == 100
    chunks = list(Chunk.objects.filter(file=file).order_by("index"))
    assert file.chunk_count == len(chunks) >= 2
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert {c.heading for c in chunks} == {"Refunds", "Shipping"}
    assert all(c.owner_id == owner.pk for c in chunks)
    vectors = np.array([c.embedding for c in chunks])
    assert vectors.shape == (len(chunks), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert {c.embedding_model for c in chunks} == {"all-MiniLM-L6-v2-onnx-int8"}
    # Full text over the generated column, stemmed: "refunded" finds "Refunds".
    found = Chunk.objects.filter(
        search_vector=SearchQuery("refunded", config="english")
    )
    assert {c.heading for c in found} == {"Refunds"}

    detail = as_user(owner).get(f"/api/v1/files/{file.pk}/").json()
    assert detail["status"] == "ready"
    assert detail["chunk_count"] == len(chunks)


def test_ingesting_again_replaces_the_chunks_never_duplicates_them(as_user):
    owner = UserFactory()
    file_id = upload(as_user(owner), "handbook.md", HANDBOOK.encode()).json()["id"]
    first = services.file_ingest(file_id=file_id)
    texts = list(Chunk.objects.filter(file=first).values_list("text", flat=True))
    again = services.file_ingest(file_id=file_id)
    assert again.status == FileStatus.READY
    assert list(Chunk.objects.filter(file=again).values_list("text", flat=True)) == (
        texts
    )

    response = as_user(owner).post(
        f"/api/v1/files/{file_id}/reingest/",
        {"chunk_size": 32, "chunk_overlap": 8},
        format="json",
    )
    assert response.status_code == 202
    assert response.json()["stage"] == "uploaded"
    smaller = services.file_ingest(file_id=file_id)
    assert smaller.chunk_count > len(texts)
    assert Chunk.objects.filter(file_id=file_id).count() == smaller.chunk_count
    assert max(c.token_count for c in Chunk.objects.filter(file_id=file_id)) <= 32


def test_a_broken_file_fails_with_a_reason_and_leaves_no_chunks(as_user):
    owner = UserFactory()
    file_id = upload(as_user(owner), "handbook.md", HANDBOOK.encode()).json()["id"]
    services.file_ingest(file_id=file_id)
    assert Chunk.objects.filter(file_id=file_id).exists()
    # The stored bytes turn out to be a PDF that cannot be read.
    file = File.objects.get(pk=file_id)
    file.blob.storage.delete(file.blob.name)
    file.blob.storage.save(file.blob.name, SimpleUploadedFile("x", b"%PDF-1.7\nno"))
    File.objects.filter(pk=file_id).update(name="report.pdf", kind="pdf")

    failed = services.file_ingest(file_id=file_id)
    assert failed.status == FileStatus.FAILED
    assert failed.error
    assert not Chunk.objects.filter(file_id=file_id).exists()
    detail = as_user(owner).get(f"/api/v1/files/{file_id}/").json()
    assert detail["status"] == "failed"
    assert detail["error"] == failed.error


def test_an_unexpected_error_fails_the_file_without_raising(as_user, monkeypatch):
    owner = UserFactory()
    file_id = upload(as_user(owner), "notes.txt", b"Some notes about tea.").json()["id"]

    def broken():
        raise RuntimeError("the embedder exploded")

    monkeypatch.setattr("files.embeddings.get_embedder", broken)
    file = services.file_ingest(file_id=file_id)
    assert file.status == FileStatus.FAILED
    assert "Something went wrong" in file.error
    assert "exploded" not in file.error
    assert not Chunk.objects.filter(file_id=file_id).exists()


@pytest.mark.parametrize(
    ("name", "data", "fields", "field", "words"),
    [
        ("big.txt", b"a" * (1024 * 1024 + 1), {}, "file", "1 MB limit"),
        ("empty.txt", b"", {}, "file", "empty"),
        ("photo.pdf", PNG, {}, "file", ""),
        ("notes.txt", b"tea", {"chunk_size": 8}, "chunk_size", "Between"),
        (
            "notes.txt",
            b"tea",
            {"chunk_size": 100, "chunk_overlap": 60},
            "chunk_overlap",
            "half",
        ),
        ("notes.txt", b"tea", {"collection": 999999}, "collection", "no such"),
    ],
    ids=["oversized", "empty", "png-as-pdf", "tiny-chunks", "overlap", "collection"],
)
def test_bad_uploads_are_field_errors_and_store_nothing(
    as_user, settings, name, data, fields, field, words
):
    settings.FILES_MAX_UPLOAD_MB = 1
    response = upload(as_user(UserFactory()), name, data, **fields)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert words in " ".join(response.json()[field])
    assert not File.objects.exists()


def test_an_upload_without_a_file_is_a_field_error(as_user):
    response = as_user(UserFactory()).post(
        "/api/v1/files/upload/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()


def test_files_are_their_owners_alone(as_user, api_client):
    owner, other = UserFactory(), UserFactory()
    file_id = upload(as_user(owner), "notes.txt", b"Private notes.").json()["id"]
    services.file_ingest(file_id=file_id)
    stranger = as_user(other)
    assert stranger.get(f"/api/v1/files/{file_id}/").status_code == 404
    assert stranger.delete(f"/api/v1/files/{file_id}/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/files/{file_id}/reingest/", {}, format="json"
        ).status_code
        == 404
    )
    assert stranger.get("/api/v1/files/").json()["count"] == 0
    theirs = Collection.objects.create(owner=owner, name="Work")
    refused = upload(stranger, "x.txt", b"x", collection=theirs.pk)
    assert refused.status_code == 400
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/files/").status_code in (401, 403)
    assert as_user(owner).get("/api/v1/files/").json()["count"] == 1


def test_deleting_a_file_removes_its_chunks_and_bytes(
    as_user, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    file_id = upload(as_user(owner), "notes.txt", b"Notes on green tea.").json()["id"]
    file = services.file_ingest(file_id=file_id)
    storage, name = file.blob.storage, file.blob.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).delete(f"/api/v1/files/{file_id}/")
    assert response.status_code == 204
    assert not File.objects.filter(pk=file_id).exists()
    assert not Chunk.objects.filter(file_id=file_id).exists()
    assert not storage.exists(name)


def test_collections(as_user):
    owner = UserFactory()
    client = as_user(owner)
    made = client.post(
        "/api/v1/files/collections/", {"name": "Policies"}, format="json"
    )
    assert made.status_code == 201
    again = client.post(
        "/api/v1/files/collections/", {"name": "policies"}, format="json"
    )
    assert again.status_code == 400
    assert "name" in again.json()
    collection_id = made.json()["id"]
    in_it = upload(client, "a.txt", b"Alpha.", collection=collection_id).json()
    upload(client, "b.txt", b"Beta.")
    listed = client.get(f"/api/v1/files/?collection={collection_id}").json()
    assert [f["id"] for f in listed["results"]] == [in_it["id"]]
    assert in_it["collection"] == collection_id


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_takes_an_upload_to_ready(
    as_user, start_worker, settings, tmp_path, monkeypatch
):
    from tests.worker import wait_for

    media = tmp_path / "shared-media"
    settings.MEDIA_ROOT = media
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    start_worker()
    owner = UserFactory()
    file_id = upload(as_user(owner), "handbook.md", HANDBOOK.encode()).json()["id"]
    wait_for(
        lambda: (
            File.objects.get(pk=file_id).status in (FileStatus.READY, FileStatus.FAILED)
        ),
        timeout=60,
    )
    file = File.objects.get(pk=file_id)
    assert file.status == FileStatus.READY, file.error
    assert Chunk.objects.filter(file=file).count() == file.chunk_count > 0


def test_files_of_another_embedding_model_are_embedded_again(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    from django.core.management import call_command

    from files.embeddings import current_name
    from tests.files.factories import add_file

    owner = UserFactory()
    old = add_file(owner, "old.md", "# Tea\n\nGreen tea is steeped at 80 degrees.")
    current = add_file(owner, "new.md", "# Coffee\n\nBrewed at 93 degrees.")
    File.objects.filter(pk=old.pk).update(embedding_model="retired-model")
    Chunk.objects.filter(file=old).update(embedding_model="retired-model")
    queued = []
    monkeypatch.setattr(services, "_queue", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.files_reembed_stale() == 1
    assert queued == [old.pk]
    old.refresh_from_db()
    assert old.status == FileStatus.UPLOADED
    # Once read again it carries the deployment's model, and is left alone.
    services.file_ingest(file_id=old.pk)
    assert set(
        Chunk.objects.filter(owner=owner).values_list("embedding_model", flat=True)
    ) == {current_name()}
    assert services.files_reembed_stale() == 0
    # A change of provider makes every file stale; the command takes them all.
    settings.EMBEDDINGS_PROVIDER, settings.EMBEDDINGS_MODEL = "openai", "other"
    assert current_name() == "openai/other"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("files_reembed", stdout=io.StringIO())
    assert sorted(queued) == sorted([old.pk, old.pk, current.pk])


def test_ingestion_has_its_own_queue_and_runs_keep_the_default():
    from config.celery import app
    from config.env import BASE_DIR

    router = app.amqp.router
    assert router.route({}, "files.ingest")["queue"].name == "files"
    assert router.route({}, "agents.run_execute")["queue"].name == "celery"
    # The Procfile (make run, and production's reference) runs a worker each.
    procfile = (BASE_DIR / "Procfile").read_text()
    assert "--queues=files" in procfile
    assert "--queues=celery\n" in procfile
