"""The Celery broker for the no-services default: kombu's SQLAlchemy transport
on the embedded PostgreSQL, with two fixes that matter for a real worker.

- kombu hands every transport option to SQLAlchemy's `create_engine`, so the
  virtual transport's own `polling_interval` cannot be set; here it can.
- Upstream looks its queue's row up again on every publish (a SELECT, and the
  ORM's bookkeeping) before the INSERT; here a channel remembers each queue's
  id, so a publish is one INSERT and its commit, the cost of starting a run.
- Upstream marks a delivered message invisible and keeps it forever, and every
  poller waits on the same row lock. Here a poller skips rows another holds
  (`FOR UPDATE SKIP LOCKED`) and deletes what it delivered. Delivery stays
  at-most-once, as upstream.

Registered as the `pgsql+` broker URL scheme (see components/celery.py).
"""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads
from sqlalchemy import create_engine, insert
from sqlalchemy.exc import IntegrityError, OperationalError

SCHEME = "pgsql"
# Options the virtual transport reads itself; the rest go to create_engine.
_TRANSPORT_ONLY_OPTIONS = {
    "polling_interval",
    "queue_tablename",
    "message_tablename",
    "callback",
    "errback",
    "max_retries",
    "interval_start",
    "interval_step",
    "interval_max",
    "retry_errors",
}


class Channel(kombu_sqlalchemy.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._queue_ids: dict[str, int] = {}

    def _engine_from_config(self):
        conninfo = self.connection.client
        options = {
            key: value
            for key, value in conninfo.transport_options.items()
            if key not in _TRANSPORT_ONLY_OPTIONS
        }
        options.setdefault("pool_pre_ping", True)
        return create_engine(conninfo.hostname, **options)

    def _queue_id(self, queue) -> int:
        if queue not in self._queue_ids:
            self._queue_ids[queue] = self._get_or_create(queue).id
        return self._queue_ids[queue]

    def _put(self, queue, payload, **kwargs):
        for attempt in range(2):
            statement = insert(self.message_cls.__table__).values(
                payload=dumps(payload),
                queue_id=self._queue_id(queue),
                visible=True,
                version=1,
            )
            try:
                self.session.execute(statement)
                self.session.commit()
                return
            except IntegrityError:
                # The queue's row went away (a purge of the tables): find or
                # make it again, once.
                self.session.rollback()
                self._queue_ids.pop(queue, None)
                if attempt:
                    raise
            except OperationalError:
                # Re-raised so the publish fails (and can be retried) instead
                # of reporting success for a message that was never stored.
                self.session.rollback()
                raise

    def _get(self, queue):
        queue_row = self._get_or_create(queue)
        message_cls = self.message_cls
        try:
            message = (
                self.session.query(message_cls)
                .with_for_update(skip_locked=True)
                .filter(message_cls.queue_id == queue_row.id)
                .filter(message_cls.visible.is_(True))
                .order_by(message_cls.sent_at, message_cls.id)
                .limit(1)
                .first()
            )
            if message is None:
                raise Empty()
            payload = loads(bytes_to_str(message.payload))
            self.session.delete(message)
            return payload
        finally:
            self.session.commit()


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel


def register() -> None:
    TRANSPORT_ALIASES[SCHEME] = "config.broker:Transport"
