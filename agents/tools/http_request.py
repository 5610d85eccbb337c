"""The ``http_request`` tool: GET or POST to hosts the agent's owner allowed.

Requests go through config.outbound, which refuses private, loopback,
link-local and metadata addresses after resolving the name, re-checks every
redirect, and caps size and time. The allowed hosts are the agent's
``tool_options["http_request"]["allowed_hosts"]``, set by its owner; the model
cannot widen them.
"""

from __future__ import annotations

from typing import Any

from agents.tools.registry import BuiltinTool, ToolInputError, register
from config import outbound

# How much of a response body goes back to the model, in characters.
MAX_TEXT = 20_000

PARAMETERS = {
    "type": "object",
    "properties": {
        "method": {"type": "string", "enum": ["GET", "POST"]},
        "url": {"type": "string", "description": "An http(s) URL on an allowed host."},
        "body": {
            "type": ["string", "null"],
            "description": "The request body for POST (e.g. JSON text).",
        },
        "content_type": {
            "type": ["string", "null"],
            "description": "The body's Content-Type, e.g. application/json.",
        },
    },
    "required": ["method", "url", "body", "content_type"],
    "additionalProperties": False,
}


def http_request(arguments: dict[str, Any], options: dict) -> str:
    method = arguments.get("method") or "GET"
    if method not in ("GET", "POST"):
        raise ToolInputError("method must be GET or POST.")
    url = arguments.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ToolInputError("url must be an http(s) URL.")
    body = arguments.get("body")
    headers = {"User-Agent": "Agentry http_request tool", "Accept": "*/*"}
    if body is not None:
        if method == "GET":
            raise ToolInputError("A GET request has no body; use POST.")
        headers["Content-Type"] = arguments.get("content_type") or "text/plain"
    try:
        response = outbound.request(
            method,
            url.strip(),
            headers=headers,
            body=body.encode() if isinstance(body, str) else None,
            allowed_hosts=list(options.get("allowed_hosts") or []),
        )
    except (outbound.OutboundRefusedError, outbound.OutboundFailedError) as error:
        raise ToolInputError(str(error)) from None
    text = response.text()
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n[… {len(text) - MAX_TEXT} more characters]"
    content_type = response.headers.get("Content-Type", "")
    return f"HTTP {response.status} {content_type}\n\n{text}"


tool = register(
    BuiltinTool(
        name="http_request",
        description=(
            "Fetch a URL (GET) or send data to it (POST), on the hosts this agent "
            "is allowed to call. Returns the status, content type and body text."
        ),
        parameters=PARAMETERS,
        handler=http_request,
        takes_options=True,
        blocking=True,
    )
)
