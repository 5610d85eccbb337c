"""Queue every file embedded by another model than the deployment's for
ingestion again (the beat task does this 100 files at a time)."""

from django.core.management.base import BaseCommand

from files.embeddings import current_name
from files.services import files_reembed_stale


class Command(BaseCommand):
    help = (
        "Re-ingest the ready files whose chunks another embedding model made, "
        "after EMBEDDINGS_PROVIDER or EMBEDDINGS_MODEL changed."
    )

    def handle(self, *args, **options):
        count = files_reembed_stale(limit=None)
        self.stdout.write(
            f"Queued {count} file(s) to be embedded again with {current_name()}."
        )
