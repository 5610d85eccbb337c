"""Check a test client's response against what /api/schema/ documents for it.

schemathesis validates the response as its fuzz test does
(tests/config/test_api_fuzz.py): the documented status's content type and
JSON schema, OpenAPI's `nullable` included.
"""

from __future__ import annotations

import functools

import schemathesis
from django.test import Client
from werkzeug.test import EnvironBuilder, TestResponse


@functools.cache
def _schema():
    # The schema is built from the code alone, so one copy serves the session.
    raw = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    return schemathesis.openapi.from_dict(raw)


def assert_documented(response, *, method: str, path: str) -> None:
    """Fail unless ``response`` is in the shape documented for ``method path``
    (``path`` as in the schema: ``/api/v1/agents/{agent_id}/``)."""
    operation = _schema()[path][method.upper()]
    request = EnvironBuilder(method=method.upper(), path=response.request["PATH_INFO"])
    wsgi_response = TestResponse(
        response.content,
        status=response.status_code,
        headers=list(response.headers.items()),
        request=request.get_request(),
    )
    operation.validate_response(wsgi_response)
