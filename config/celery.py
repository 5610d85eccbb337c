"""The Celery application, and the heartbeat that tells /health a worker lives.

The broker is Redis when REDIS_URL is set and the embedded PostgreSQL otherwise
(kombu's SQLAlchemy transport); see config/settings/components/celery.py.
"""

import os

from celery import Celery, bootsteps
from celery.signals import worker_shutdown

from config import broker

broker.register()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("agentry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class HeartbeatStep(bootsteps.StartStopStep):
    """Records, every few seconds, that this worker's main loop is alive.

    Celery's own worker heartbeats travel over broadcast (fanout) messages, which
    the PostgreSQL transport does not have; the Django cache works with both
    brokers and is what /health reads.
    """

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        from config import heartbeat

        self.hostname = worker.hostname
        heartbeat.beat_safely(self.hostname)
        self.timer = worker.timer.call_repeatedly(
            heartbeat.interval_seconds(),
            heartbeat.beat_safely,
            (self.hostname,),
            priority=10,
        )

    def stop(self, worker):
        from config import heartbeat

        if getattr(self, "timer", None) is not None:
            self.timer.cancel()
        heartbeat.forget_safely(self.hostname)


app.steps["worker"].add(HeartbeatStep)


@worker_shutdown.connect
def _forget_worker_on_shutdown(sender=None, **kwargs):
    from config import heartbeat

    if sender is not None:
        heartbeat.forget_safely(sender.hostname)
