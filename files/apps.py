from django.apps import AppConfig


class FilesConfig(AppConfig):
    """Uploads, text extraction, chunks, pgvector embeddings and search."""

    name = "files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config.metrics import state_metrics_register
        from files.metrics import file_metrics

        state_metrics_register(file_metrics)
