"""A request id that follows a request into what it causes.

Every request gets one (the caller's ``X-Request-ID`` if it is sane, else a
new one), answered in the same header. Log records carry it as
``request_id``; tasks the request enqueues carry it in their message headers,
and a worker running such a task logs with it too. So a run's lines, from
the POST that started it to the worker that carried it out, share one id.

The same middleware also keeps where the request came from (the client's
address and user agent) for the audit log (community.audit), so services
that record sensitive actions need not be handed the request.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.conf import settings

HEADER = "X-Request-ID"
TASK_HEADER = "agentry_request_id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_current: ContextVar[str] = ContextVar("agentry_request_id", default="")
USER_AGENT_LENGTH = 300


@dataclass(frozen=True)
class Client:
    """Where the current request came from (None and "" outside a request)."""

    ip: str | None = None
    user_agent: str = ""


_NO_CLIENT = Client()
_client: ContextVar[Client | None] = ContextVar("agentry_client", default=None)


def current() -> str:
    return _current.get()


def current_client() -> Client:
    return _client.get() or _NO_CLIENT


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address. ``X-Forwarded-For`` is believed only as far as
    TRUSTED_PROXY_COUNT says: each trusted proxy appends the address it was
    called from, so with N of them the client is the Nth entry from the
    right; anything further left was written by the client and may be
    forged. Without trusted proxies the socket's address is the client."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = header.split(",") if header.strip() else []
    if len(forwarded) < proxies:
        # Fewer hops than proxies: the request did not come through them all.
        return remote
    return _valid_ip(forwarded[-proxies]) or remote


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        client_token = _client.set(
            Client(
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            _client.reset(client_token)
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
