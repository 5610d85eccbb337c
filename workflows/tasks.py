"""Celery tasks of the workflows app: thin wrappers over services."""

from celery import shared_task

from workflows import runs


@shared_task(name="workflows.run_execute", bind=True, acks_late=True)
def workflow_run_execute_task(self, run_id: int) -> None:
    """Carry a queued workflow run on (from the start, or where it paused).
    A run is claimed once per queueing, so a redelivered message does nothing."""
    runs.workflow_run_execute(run_id=run_id, worker=self.request.hostname or "")
