"""Reads for files and collections: always one owner's."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from files.models import Collection, File


def file_list(*, owner, collection_id=None, status: str = "") -> QuerySet[File]:
    files = File.objects.filter(owner=owner).select_related("collection")
    if collection_id:
        files = files.filter(collection_id=collection_id)
    if status:
        files = files.filter(status=status)
    return files.order_by("-created_at", "-id")


def _one(files: QuerySet[File], file_id) -> File | None:
    try:
        file_id = int(file_id)
    except (TypeError, ValueError):
        return None
    return files.filter(pk=file_id).first()


def file_get(*, owner, file_id) -> File | None:
    return _one(File.objects.filter(owner=owner).select_related("collection"), file_id)


def file_list_downloadable(*, user) -> QuerySet[File]:
    """The files whose stored bytes ``user`` may have: their own, and no one
    else's. Attaching a file to an agent lets whoever runs the agent search
    its text (``file_search``), never download it; staff see a file's record
    in the admin, not its contents. Every way out for a file's bytes (its
    download, the account export) reads through here."""
    if not user.is_authenticated:
        return File.objects.none()
    return File.objects.filter(owner=user)


def file_get_downloadable(*, user, file_id) -> File | None:
    return _one(file_list_downloadable(user=user), file_id)


def collection_list(*, owner) -> QuerySet[Collection]:
    """Yours, by name, each with ``file_count``."""
    return (
        Collection.objects.filter(owner=owner)
        .annotate(file_count=Count("files"))
        .order_by("name")
    )


def collection_get(*, owner, collection_id) -> Collection | None:
    try:
        collection_id = int(collection_id)
    except (TypeError, ValueError):
        return None
    return Collection.objects.filter(owner=owner, pk=collection_id).first()


def attachment_list(*, agent) -> QuerySet:
    from files.models import Attachment

    return Attachment.objects.filter(agent=agent).select_related("file", "collection")


def agent_file_scope(*, agent_id: int, owner_id: int) -> dict:
    """What the agent's ``file_search`` may search: its owner's files that
    are attached to it, directly or through a collection. Always the agent
    owner's files only, whoever runs the agent."""
    from files.models import Attachment

    rows = Attachment.objects.filter(agent_id=agent_id).values_list(
        "file_id", "collection_id"
    )
    file_ids = {f for f, _c in rows if f}
    collection_ids = {c for _f, c in rows if c}
    if collection_ids:
        file_ids |= set(
            File.objects.filter(
                owner_id=owner_id, collection_id__in=collection_ids
            ).values_list("pk", flat=True)
        )
    return {"owner_id": owner_id, "file_ids": sorted(file_ids)}
