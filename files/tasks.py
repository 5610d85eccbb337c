"""Celery tasks of the files app: thin wrappers over services."""

from celery import shared_task

from config import metrics
from files import services


@shared_task(name="files.ingest", bind=True, acks_late=True, reject_on_worker_lost=True)
def file_ingest_task(self, file_id: int) -> str | None:
    """Ingest an uploaded file. Acknowledged only once done, so a worker that
    dies mid-way hands the file to another, which starts it again: ingestion
    replaces the file's chunks as a whole, so that is safe."""
    file = services.file_ingest(file_id=file_id)
    if file is None:
        return None
    metrics.observe_ingestion(ready=file.status == "ready", chunks=file.chunk_count)
    return file.status


@shared_task(name="files.reembed_stale")
def files_reembed_stale_task() -> int:
    """Beat: re-ingest files embedded by a model the deployment no longer
    uses, a batch at a time."""
    return services.files_reembed_stale()
