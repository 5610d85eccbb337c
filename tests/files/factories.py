"""Files for tests: stored and ingested for real (extraction, chunking, the
offline embedding model), without going through the upload API."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.test import Client

from files import services
from files.models import File


def add_file(owner, name: str, text: str, *, kind: str = "markdown", **fields) -> File:
    """A ready file of ``owner``'s with ``text`` (ingested synchronously)."""
    data = text.encode()
    file = File(
        owner=owner,
        name=name,
        kind=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        chunk_size=fields.pop("chunk_size", 200),
        chunk_overlap=fields.pop("chunk_overlap", 40),
        **fields,
    )
    file.blob.save(name, ContentFile(data), save=False)
    file.save()
    return services.file_ingest(file_id=file.pk)


def signed_in(user) -> Client:
    """A page client signed in as ``user``."""
    client = Client()
    client.force_login(user)
    return client
