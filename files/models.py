"""Uploaded files, their collections, and the chunks search runs over.

A file belongs to its owner. Ingestion (files.services.file_ingest, in a
Celery task) extracts its text, chunks it and embeds each chunk; the chunks
of a file are replaced as a whole, so running it again never duplicates
them and a failure leaves none behind.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from files.embeddings import DIMENSIONS

# Full-text search over chunks: English stemming, headings weigh more.
SEARCH_CONFIG = "english"


class FileKind(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", _("Word document")
    PPTX = "pptx", _("PowerPoint slides")
    XLSX = "xlsx", _("Excel workbook")
    HTML = "html", "HTML"
    MARKDOWN = "markdown", "Markdown"
    CSV = "csv", "CSV"
    TEXT = "text", _("Plain text")


class FileStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    EXTRACTING = "extracting", _("Extracting text")
    CHUNKING = "chunking", _("Chunking")
    EMBEDDING = "embedding", _("Embedding")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


IN_PROGRESS = [
    FileStatus.UPLOADED,
    FileStatus.EXTRACTING,
    FileStatus.CHUNKING,
    FileStatus.EMBEDDING,
]


class Collection(models.Model):
    """A named group of one person's files (attach a whole collection to an
    agent)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="collection_unique_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return self.name


def _upload_to(instance: File, filename: str) -> str:
    # The stored name is not the person's: theirs is File.name.
    return f"files/{instance.owner_id}/{instance.sha256[:2]}/{instance.sha256}"


class File(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files"
    )
    collection = models.ForeignKey(
        Collection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="files",
    )
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("type"), max_length=10, choices=FileKind.choices)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    blob = models.FileField(upload_to=_upload_to, max_length=300)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=FileStatus.choices,
        default=FileStatus.UPLOADED,
    )
    # 0 to 100 through the stages, for the progress bar.
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    # In the embedding model's tokens (files.embeddings.token_count).
    chunk_size = models.PositiveSmallIntegerField(_("chunk size (tokens)"))
    chunk_overlap = models.PositiveSmallIntegerField(_("chunk overlap (tokens)"))
    embedding_model = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ingested_at = models.DateTimeField(_("ready since"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=FileStatus.values), name="file_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=FileKind.values), name="file_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="file_progress_at_most_100"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "sha256"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_processing(self) -> bool:
        return self.status in IN_PROGRESS


class Chunk(models.Model):
    """A passage of a file, embedded for vector search and indexed for full
    text. ``owner`` repeats the file's, so search filters without a join."""

    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="chunks")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    index = models.PositiveIntegerField()
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    heading = models.CharField(max_length=500, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    embedding = VectorField(dimensions=DIMENSIONS)
    embedding_model = models.CharField(max_length=100)
    search_vector = models.GeneratedField(
        expression=SearchVector("heading", weight="A", config=SEARCH_CONFIG)
        + SearchVector("text", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["file", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["file", "index"], name="chunk_unique_index_per_file"
            )
        ]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=128,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="chunk_search_gin"),
            models.Index(fields=["owner", "file"]),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}#{self.index}"


class Attachment(models.Model):
    """A file or a collection its owner gave an agent to search with the
    ``file_search`` tool. Only the agent owner's own files and collections
    can be attached (files.services.attachment_add)."""

    agent = models.ForeignKey(
        "agents.Agent", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.ForeignKey(
        File, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(file__isnull=False, collection__isnull=True)
                | Q(file__isnull=True, collection__isnull=False),
                name="attachment_one_target",
            ),
            models.UniqueConstraint(
                fields=["agent", "file"],
                condition=Q(file__isnull=False),
                name="attachment_file_once",
            ),
            models.UniqueConstraint(
                fields=["agent", "collection"],
                condition=Q(collection__isnull=False),
                name="attachment_collection_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_id or self.collection_id} on agent {self.agent_id}"
