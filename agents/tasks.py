"""Celery tasks of the agents app: thin wrappers over services."""

from celery import shared_task

from agents import services


@shared_task(name="agents.run_execute", bind=True, acks_late=True)
def run_execute_task(self, run_id: int) -> None:
    """Carry out a queued run. A run claimed once is never claimed again, so a
    redelivered message does nothing."""
    services.run_execute(run_id=run_id, worker=self.request.hostname or "")


@shared_task(name="agents.tasks.run_sweep_task")
def run_sweep_task() -> int:
    """Fail (or, for workflows, resume) runs whose worker died, and send again
    the task of runs queued too long (scheduled by Celery beat)."""
    return services.run_sweep_dead() + services.run_requeue_stale()


@shared_task(name="agents.tasks.trending_refresh_task")
def trending_refresh_task() -> int:
    """Recompute published agents' trending scores (scheduled by Celery beat)."""
    from agents.services.search import trending_refresh

    return trending_refresh()
