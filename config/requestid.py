"""A request id that follows a request into what it causes.

Every request gets one (the caller's ``X-Request-ID`` if it is sane, else a
new one), answered in the same header. Log records carry it as
``request_id``; tasks the request enqueues carry it in their message headers,
and a worker running such a task logs with it too. So a run's lines, from
the POST that started it to the worker that carried it out, share one id.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Request-ID"
TASK_HEADER = "agentry_request_id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_current: ContextVar[str] = ContextVar("agentry_request_id", default="")


def current() -> str:
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record ("-" outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


@before_task_publish.connect(dispatch_uid="agentry_request_id_publish")
def _send_request_id(headers=None, **kwargs) -> None:
    request_id = _current.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


@task_prerun.connect(dispatch_uid="agentry_request_id_prerun")
def _take_request_id(task=None, **kwargs) -> None:
    request_id = getattr(task.request, TASK_HEADER, None) if task else None
    _current.set(request_id or "")


@task_postrun.connect(dispatch_uid="agentry_request_id_postrun")
def _drop_request_id(**kwargs) -> None:
    _current.set("")
