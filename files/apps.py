from django.apps import AppConfig


class FilesConfig(AppConfig):
    """Uploads, text extraction, chunks, pgvector embeddings and search."""

    name = "files"
    default_auto_field = "django.db.models.BigAutoField"
