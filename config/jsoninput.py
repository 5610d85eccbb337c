"""JSON from outside the site, checked before anything parses it.

Python's json module parses arrays and objects recursively, so a document
nested a few thousand deep raises RecursionError (a 500) in whichever code
parses it: DRF's parser, allauth's headless views and dj-stripe's webhook,
which read the body as JSON whatever its content type says, a consumer's
text frames, a field holding JSON text. ``too_deep`` counts the nesting
without recursing, and everything that takes JSON from outside asks it first:
request bodies in ``JsonBodyMiddleware`` (so library views are covered
without patching them), websocket frames in ``config.consumers``, JSON text in
fields through ``loads``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.translation import gettext as _

# Arrays and objects inside one another, at most. Nothing the site takes nests
# beyond a dozen (a workflow graph five, a Stripe event about ten, a JSON
# schema two a level); jsonschema's check of an output type or tool schema
# itself recurses and fails somewhat past a hundred, so the cap stays well
# below that.
MAX_DEPTH = 64

# Strings are skipped whole (brackets inside them do not nest), then all but
# brackets is dropped: both in C, so the loop below sees brackets alone.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = (ord("["), ord("{"))
_JSON_WHITESPACE = b" \t\r\n"


class NestedTooDeeplyError(ValueError):
    def __init__(self) -> None:
        super().__init__(
            _("Nested too deeply: at most %(n)d levels of arrays and objects.")
            % {"n": MAX_DEPTH}
        )


def too_deep(data: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``data`` nest more than ``limit`` deep.

    Iterative and linear, and exact for valid JSON. Malformed text (an
    unterminated string, a stray closing bracket) is only estimated: the
    parser refuses it anyway.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        if bracket in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(text: str | bytes) -> Any:
    """``json.loads``, refusing text nested too deeply with NestedTooDeeplyError
    (a ValueError, like the JSONDecodeError it raises for text that is not
    JSON)."""
    if too_deep(text):
        raise NestedTooDeeplyError
    return json.loads(text)


def _size(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{limit // 1024} KB"


class JsonBodyMiddleware:
    """Refuse, before any view, a request body nested too deeply (400) or too
    large to hold in memory (413), with ``{"detail": ...}``.

    Any body may be JSON to some view: allauth's headless API and dj-stripe's
    webhook parse what they are sent, whatever its content type. So every body
    Django would read into memory anyway is read here, and one that starts
    like a JSON array or object is checked. Beyond DATA_UPLOAD_MAX_MEMORY_SIZE
    a body is a 413 here rather than Django's RequestDataTooBig (an HTML 400,
    or in DEBUG its debug page) later; forms and multipart uploads that large
    are left alone, for Django's own limits and the upload's
    (FILES_MAX_UPLOAD_MB) to answer, and no view can read them whole.
    """

    FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        refused = self._refusal(request)
        return refused if refused is not None else self.get_response(request)

    def _refusal(self, request) -> JsonResponse | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.content_type in self.FORMS and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or -1)
            except ValueError:
                length = -1
            if not 0 <= length <= limit:
                return None
        try:
            body = request.body
        except RequestDataTooBig:
            return JsonResponse(
                {
                    "detail": _(
                        "The request body is too large: at most %(size)s."
                        " Files go in a multipart upload."
                    )
                    % {"size": _size(limit)}
                },
                status=413,
            )
        if body.lstrip(_JSON_WHITESPACE)[:1] in (b"[", b"{") and too_deep(body):
            return JsonResponse(
                {
                    "detail": _(
                        "The request body is nested too deeply: at most %(n)d"
                        " levels of arrays and objects."
                    )
                    % {"n": MAX_DEPTH}
                },
                status=400,
            )
        return None
