"""Uploading, ingesting and deleting files.

Upload checks what can be checked at once (size, emptiness, a type read from
the content, the chunk settings) and answers; ingestion runs in a Celery task
(files.tasks) through the stages extracting → chunking → embedding → ready,
reporting each to the owner's open pages over /ws/events/. It replaces the
file's chunks in one transaction at the end, so running it again (a retry, a
redelivered task, a changed chunk size) never duplicates them, and a failure
— a reason the person can act on, on the file — leaves none behind.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from config.live import user_event_push
from files.chunking import MAX_SIZE, MIN_SIZE, Preview, preview
from files.models import Attachment, Chunk, Collection, File, FileStatus

logger = logging.getLogger(__name__)

INTERNAL_ERROR = _lazy(
    "Something went wrong while reading this file. Try again, or upload it again."
)

EMBED_BATCH = 32
PREVIEW_LIMIT = 20
REEMBED_BATCH = 100
# Progress (0 to 100) at the start of each stage; embedding fills the rest.
STAGE_PROGRESS = {
    FileStatus.EXTRACTING: 5,
    FileStatus.CHUNKING: 20,
    FileStatus.EMBEDDING: 25,
}


def public_status(file: File) -> str:
    """The coarse status the API reports: processing, ready or failed."""
    if file.status in (FileStatus.READY, FileStatus.FAILED):
        return file.status
    return "processing"


def file_event(file: File) -> dict:
    return {
        "type": "file",
        "file": {
            "id": file.pk,
            "status": public_status(file),
            "stage": file.status,
            "progress": file.progress,
            "chunk_count": file.chunk_count,
            "page_count": file.page_count,
            "error": file.error,
        },
    }


def _push(file: File) -> None:
    try:
        user_event_push(user_id=file.owner_id, event=file_event(file))
    except Exception:
        logger.warning("Could not push file %s's progress", file.pk, exc_info=True)


def _clean_chunking(chunk_size, chunk_overlap) -> tuple[int, int]:
    errors = {}
    size = settings.FILES_CHUNK_SIZE if chunk_size in (None, "") else chunk_size
    overlap = chunk_overlap
    try:
        size = int(size)
    except (TypeError, ValueError):
        errors["chunk_size"] = [_("A whole number of tokens.")]
    if overlap in (None, ""):
        # The default, but never more than a fifth of a smaller chunk size.
        overlap = settings.FILES_CHUNK_OVERLAP
        if not errors:
            overlap = min(overlap, size // 5)
    try:
        overlap = int(overlap)
    except (TypeError, ValueError):
        errors["chunk_overlap"] = [_("A whole number of tokens.")]
    if not errors:
        if not MIN_SIZE <= size <= MAX_SIZE:
            errors["chunk_size"] = [
                _("Between %(low)d and %(high)d tokens.")
                % {"low": MIN_SIZE, "high": MAX_SIZE}
            ]
        elif not 0 <= overlap < size / 2:
            errors["chunk_overlap"] = [
                _("At least 0 and less than half the chunk size (%(half)d).")
                % {"half": (size + 1) // 2}
            ]
    if errors:
        raise ValidationError(errors)
    return size, overlap


def _check_upload(upload) -> None:
    """A ``file`` field error for a missing, oversized or empty upload."""
    limit = settings.FILES_MAX_UPLOAD_MB * 1024 * 1024
    if upload is None:
        raise ValidationError({"file": [_("Choose a file to upload.")]})
    if upload.size > limit:
        raise ValidationError(
            {
                "file": [
                    _("%(name)s is larger than the %(mb)d MB limit.")
                    % {"name": upload.name, "mb": settings.FILES_MAX_UPLOAD_MB}
                ]
            }
        )
    if not upload.size:
        raise ValidationError(
            {"file": [_("%(name)s is empty.") % {"name": upload.name}]}
        )


def file_upload(
    *,
    owner,
    upload,
    collection_id=None,
    chunk_size=None,
    chunk_overlap=None,
) -> File:
    """Store an uploaded file and queue its ingestion. ``upload`` is a Django
    UploadedFile. A field error (``file``, ``collection``, ``chunk_size``,
    ``chunk_overlap``) for anything wrong; nothing is stored then."""
    from config import throttles
    from files.extraction import ExtractionError, detect_kind

    throttles.check(user=owner, action="upload")
    _check_upload(upload)
    size, overlap = _clean_chunking(chunk_size, chunk_overlap)
    collection = None
    if collection_id not in (None, ""):
        collection = Collection.objects.filter(
            owner=owner, pk=collection_id if str(collection_id).isdigit() else 0
        ).first()
        if collection is None:
            raise ValidationError({"collection": [_("You have no such collection.")]})
    data = upload.read()
    try:
        kind = detect_kind(data, upload.name)
    except ExtractionError as error:
        raise ValidationError({"file": [str(error)]}) from error
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        file = File(
            owner=owner,
            collection=collection,
            name=(upload.name or "file")[:255],
            kind=kind,
            size=len(data),
            sha256=digest,
            chunk_size=size,
            chunk_overlap=overlap,
        )
        file.blob.save(digest, ContentFile(data), save=False)
        file.save(force_insert=True)
        file_id = file.pk
        transaction.on_commit(lambda: _queue(file_id), robust=True)
    return file


def _preview(data: bytes, filename: str, size: int, overlap: int) -> Preview:
    from files.extraction import ExtractionError

    try:
        return preview(data, filename, size=size, overlap=overlap, limit=PREVIEW_LIMIT)
    except ExtractionError as error:
        raise ValidationError({"file": [str(error)]}) from error


def file_preview(*, upload, chunk_size=None, chunk_overlap=None) -> Preview:
    """How an upload would be chunked (the first chunks and the total),
    without storing anything: for trying chunk settings before uploading."""
    _check_upload(upload)
    size, overlap = _clean_chunking(chunk_size, chunk_overlap)
    return _preview(upload.read(), upload.name or "file", size, overlap)


def file_preview_stored(*, file: File, chunk_size=None, chunk_overlap=None) -> Preview:
    """How one of your files would be chunked with other settings, before
    ingesting it again with them. Its settings are the default."""
    size, overlap = _clean_chunking(
        file.chunk_size if chunk_size in (None, "") else chunk_size,
        file.chunk_overlap if chunk_overlap in (None, "") else chunk_overlap,
    )
    try:
        with file.blob.open("rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ValidationError({"file": [str(INTERNAL_ERROR)]}) from error
    return _preview(data, file.name, size, overlap)


def file_set_collection(*, file: File, collection_id=None) -> File:
    """Move one of your files into one of your collections (None: out)."""
    collection = None
    if collection_id not in (None, ""):
        collection = Collection.objects.filter(
            owner_id=file.owner_id,
            pk=collection_id if str(collection_id).isdigit() else 0,
        ).first()
        if collection is None:
            raise ValidationError({"collection": [_("You have no such collection.")]})
    File.objects.filter(pk=file.pk).update(collection=collection)
    file.collection = collection
    return file


def _queue(file_id: int) -> None:
    from files.tasks import file_ingest_task

    file_ingest_task.delay(file_id)


def file_reingest(*, file: File, chunk_size=None, chunk_overlap=None) -> File:
    """Ingest again (after a failure, or with other chunk settings)."""
    size, overlap = _clean_chunking(
        file.chunk_size if chunk_size in (None, "") else chunk_size,
        file.chunk_overlap if chunk_overlap in (None, "") else chunk_overlap,
    )
    with transaction.atomic():
        File.objects.filter(pk=file.pk).update(
            chunk_size=size,
            chunk_overlap=overlap,
            status=FileStatus.UPLOADED,
            progress=0,
            error="",
        )
        file.refresh_from_db()
        file_id = file.pk
        transaction.on_commit(lambda: _queue(file_id), robust=True)
    return file


def files_reembed_stale(*, limit: int | None = REEMBED_BATCH) -> int:
    """Read again the ready files whose chunks another embedding model made
    (the deployment changed EMBEDDINGS_PROVIDER or EMBEDDINGS_MODEL): search
    only compares a query with chunks of the model that embedded it. At most
    ``limit`` at a time (None: all), so a large deployment does not flood the
    queue; the beat task comes back for the rest. How many were queued."""
    from files.embeddings import current_name

    stale = (
        File.objects.filter(status=FileStatus.READY)
        .exclude(embedding_model=current_name())
        .order_by("pk")
    )
    if limit is not None:
        stale = stale[:limit]
    count = 0
    for file in stale:
        file_reingest(file=file)
        count += 1
    return count


def _stage(file: File, status: str, progress: int) -> None:
    file.status, file.progress = status, progress
    File.objects.filter(pk=file.pk).update(status=status, progress=progress)
    _push(file)


def _fail(file: File, reason: str) -> None:
    with transaction.atomic():
        Chunk.objects.filter(file_id=file.pk).delete()
        File.objects.filter(pk=file.pk).update(
            status=FileStatus.FAILED, progress=100, error=reason, chunk_count=0
        )
    file.status, file.progress, file.error, file.chunk_count = (
        FileStatus.FAILED,
        100,
        reason,
        0,
    )
    _push(file)


def file_ingest(*, file_id: int) -> File | None:
    """Extract, chunk, embed and store ``file_id``'s chunks; None if the file
    is gone. Never raises for a bad file: it ends ``failed`` with a reason."""
    from files.chunking import chunk_sections
    from files.embeddings import EmbeddingError, get_embedder
    from files.extraction import ExtractionError, extract

    file = File.objects.filter(pk=file_id).first()
    if file is None:
        return None
    try:
        _stage(file, FileStatus.EXTRACTING, STAGE_PROGRESS[FileStatus.EXTRACTING])
        with file.blob.open("rb") as handle:
            data = handle.read()
        extracted = extract(data, file.name)
        _stage(file, FileStatus.CHUNKING, STAGE_PROGRESS[FileStatus.CHUNKING])
        drafts = chunk_sections(
            extracted.sections, size=file.chunk_size, overlap=file.chunk_overlap
        )
        if not drafts:
            raise ExtractionError(_("No text could be extracted from this file."))
        _stage(file, FileStatus.EMBEDDING, STAGE_PROGRESS[FileStatus.EMBEDDING])
        embedder = get_embedder()
        vectors = []
        start_at = STAGE_PROGRESS[FileStatus.EMBEDDING]
        for start in range(0, len(drafts), EMBED_BATCH):
            batch = drafts[start : start + EMBED_BATCH]
            vectors.extend(embedder.embed([draft.text for draft in batch]))
            done = min(start + EMBED_BATCH, len(drafts)) / len(drafts)
            progress = start_at + int((99 - start_at) * done)
            if progress != file.progress:
                _stage(file, FileStatus.EMBEDDING, progress)
    except (ExtractionError, EmbeddingError) as error:
        _fail(file, str(error))
        return file
    except Exception:
        logger.exception("Ingesting file %s failed", file_id)
        _fail(file, str(INTERNAL_ERROR))
        return file
    with transaction.atomic():
        # Locked: a delete or a second ingestion of the same file waits.
        if not File.objects.select_for_update().filter(pk=file.pk).exists():
            return None
        Chunk.objects.filter(file_id=file.pk).delete()
        Chunk.objects.bulk_create(
            Chunk(
                file_id=file.pk,
                owner_id=file.owner_id,
                index=draft.index,
                text=draft.text,
                page=draft.page,
                heading=draft.heading[:500],
                token_count=draft.token_count,
                embedding=vector,
                embedding_model=embedder.name,
            )
            for draft, vector in zip(drafts, vectors, strict=True)
        )
        now = timezone.now()
        File.objects.filter(pk=file.pk).update(
            status=FileStatus.READY,
            progress=100,
            error="",
            chunk_count=len(drafts),
            page_count=extracted.page_count,
            embedding_model=embedder.name,
            ingested_at=now,
        )
    file.refresh_from_db()
    _push(file)
    return file


def file_delete(*, file: File) -> None:
    """Delete the file, its chunks and its stored bytes (once committed)."""
    blob_name, storage = file.blob.name, file.blob.storage
    with transaction.atomic():
        file.delete()
        transaction.on_commit(lambda: storage.delete(blob_name), robust=True)


def collection_create(*, owner, name: str, description: str = "") -> Collection:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the collection a name.")]})
    if len(name) > 100:
        raise ValidationError({"name": [_("At most 100 characters.")]})
    if Collection.objects.filter(owner=owner, name__iexact=name).exists():
        raise ValidationError({"name": [_("You have a collection by that name.")]})
    return Collection.objects.create(
        owner=owner, name=name, description=(description or "").strip()[:300]
    )


def collection_delete(*, collection: Collection) -> None:
    """Delete a collection; its files stay, outside any collection, and the
    agents it was attached to lose it."""
    collection.delete()


# --- attaching files to agents -------------------------------------------------


def attachment_add(*, agent, user, file_id=None, collection_id=None) -> Attachment:
    """Attach one of the agent owner's files or collections to the agent.
    Only the owner (who owns the files) may; attaching twice keeps one."""
    if agent.owner_id != user.pk:
        raise PermissionDenied(_("Only the agent's owner can attach files to it."))
    if (file_id in (None, "")) == (collection_id in (None, "")):
        raise ValidationError(
            {"non_field_errors": [_("Attach either a file or a collection.")]}
        )
    if file_id not in (None, ""):
        file = File.objects.filter(
            owner_id=agent.owner_id, pk=file_id if str(file_id).isdigit() else 0
        ).first()
        if file is None:
            raise ValidationError({"file": [_("You have no such file.")]})
        attachment, _created = Attachment.objects.get_or_create(agent=agent, file=file)
        return attachment
    collection = Collection.objects.filter(
        owner_id=agent.owner_id,
        pk=collection_id if str(collection_id).isdigit() else 0,
    ).first()
    if collection is None:
        raise ValidationError({"collection": [_("You have no such collection.")]})
    attachment, _created = Attachment.objects.get_or_create(
        agent=agent, collection=collection
    )
    return attachment


def attachment_remove(*, agent, user, file_id=None, collection_id=None) -> bool:
    """Detach a file or a collection from the agent; False if it was not
    attached."""
    if agent.owner_id != user.pk:
        raise PermissionDenied(_("Only the agent's owner can detach its files."))
    target = {"file_id": file_id} if file_id is not None else {}
    if collection_id is not None:
        target = {"collection_id": collection_id}
    if not target:
        return False
    deleted, _counts = Attachment.objects.filter(agent=agent, **target).delete()
    return bool(deleted)
