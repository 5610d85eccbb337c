"""Users' custom tools as SDK function tools that call a webhook.

The model's arguments are checked against the tool's JSON schema first; a call
that does not fit never leaves the server, and the model is told what to fix.
The arguments are POSTed as JSON through config.outbound (public addresses
only, redirects re-checked, size and time capped), with the tool's secret
header if it has one; the answer's text goes back to the model.
"""

from __future__ import annotations

import asyncio
import json

import jsonschema

from agents.runtime.sdk import FunctionTool
from config import outbound

MAX_TEXT = 20_000


def _looks_binary(body: bytes) -> bool:
    """Bytes a model cannot read: NULs, or not UTF-8 at all."""
    if b"\x00" in body[:4096]:
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def webhook_tool(definition: dict) -> FunctionTool:
    """``definition``: name, description, parameters, url, and optionally
    ``secret_header`` as (name, value in clear)."""
    validator = jsonschema.validators.validator_for(definition["parameters"])(
        definition["parameters"]
    )
    headers = {"Content-Type": "application/json", "User-Agent": "Agentry tool"}
    if definition.get("secret_header"):
        name, value = definition["secret_header"]
        headers[name] = value

    async def invoke(context, arguments_json: str) -> str:
        try:
            arguments = json.loads(arguments_json or "{}")
        except json.JSONDecodeError as error:
            return f"Error: the arguments were not valid JSON ({error.msg})."
        problem = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
        if problem is not None:
            where = "/" + "/".join(str(part) for part in problem.absolute_path)
            return (
                "Error: the arguments do not fit the tool's schema: "
                f"{problem.message} (at {where}). Call it again with fixed arguments."
            )
        try:
            response = await asyncio.to_thread(
                outbound.request,
                "POST",
                definition["url"],
                headers=headers,
                body=json.dumps(arguments).encode(),
            )
        except (outbound.OutboundRefusedError, outbound.OutboundFailedError) as error:
            return f"Error: the tool's webhook could not be called: {error}"
        if _looks_binary(response.body):
            kind = response.headers.get("Content-Type") or "no content type"
            return (
                "Error: the tool's webhook answered with something that is not "
                f"text ({kind}, {len(response.body)} bytes)."
            )
        text = response.text()
        if response.status >= 400:
            return f"Error: the tool's webhook answered {response.status}: {text[:500]}"
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT] + f"\n[… {len(text) - MAX_TEXT} more characters]"
        return text

    return FunctionTool(
        name=definition["name"],
        description=definition["description"],
        params_json_schema=definition["parameters"],
        on_invoke_tool=invoke,
        # Users write ordinary schemas; the arguments are checked above.
        strict_json_schema=False,
    )
