"""Demo files for `make run`: alice's Acme handbook and support FAQ, ingested
for real. The agents that search them are agents.demo's (demo_file_agents_ensure,
loaded by seed_demo)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.files.base import ContentFile

from files import services
from files.models import File

HANDBOOK = Path(__file__).resolve().parent / "demo_data" / "acme-handbook.md"
SUPPORT_FAQ = Path(__file__).resolve().parent / "demo_data" / "acme-support-faq.md"


def demo_file_ensure(owner, path: Path) -> tuple[File, int]:
    """``owner``'s copy of the demo file at ``path``, ingested for real
    (made and ingested if missing); and 1 if it was made, else 0."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    file = File.objects.filter(owner=owner, sha256=digest).first()
    added = 0
    if file is None:
        file = File(
            owner=owner,
            name=path.name,
            kind="markdown",
            size=len(data),
            sha256=digest,
            chunk_size=200,
            chunk_overlap=40,
        )
        file.blob.save(digest, ContentFile(data), save=False)
        file.save()
        added = 1
    if file.status != "ready":
        services.file_ingest(file_id=file.pk)
    return file, added
