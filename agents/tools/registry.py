"""Built-in tools: plain Python functions the model may call, kept by name.

A built-in tool describes itself with a strict JSON schema (every property
required, optional values as nullable types, no extra properties), so the
same definition serves every model provider and the offline demo model.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from agents.runtime.sdk import FunctionTool

# The Responses and Chat Completions APIs accept only these tool names.
TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ToolInputError(Exception):
    """The model called a tool with arguments it cannot use.

    The message is sent back to the model, so it should say what to change.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, eq=False)
class BuiltinTool:
    """A tool implemented in code, offered to agents that enable it."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: Callable[..., str] = field(repr=False)
    # The handler also takes the agent's options for this tool (its
    # ``tool_options[name]``), e.g. the hosts http_request may call.
    takes_options: bool = False
    # The handler blocks (network I/O): it runs in a thread, not the event loop.
    blocking: bool = False
    # The handler queries the database: it runs on the thread Django's async
    # bridge keeps for that (sync_to_async, thread-sensitive).
    queries_database: bool = False

    def invoke(self, arguments: dict[str, Any], options: dict | None = None) -> str:
        """Run the tool; the returned text goes back to the model.

        Raises ``ToolInputError`` when the arguments cannot be used.
        """
        if not isinstance(arguments, dict):
            raise ToolInputError("Arguments must be a JSON object.")
        if self.takes_options:
            return self.handler(arguments, options or {})
        return self.handler(arguments)

    def as_sdk_tool(self, options: dict | None = None) -> FunctionTool:
        """This tool as an Agents SDK ``FunctionTool`` (a fresh one per call).

        Bad arguments become an error message for the model, which can then
        correct itself, instead of failing the run.
        """

        async def on_invoke_tool(context: Any, arguments_json: str) -> str:
            try:
                arguments = json.loads(arguments_json or "{}")
            except json.JSONDecodeError as error:
                return f"Error: the arguments were not valid JSON ({error.msg})."
            try:
                if self.queries_database:
                    return await sync_to_async(self.invoke, thread_sensitive=True)(
                        arguments, options
                    )
                if self.blocking:
                    return await asyncio.to_thread(self.invoke, arguments, options)
                return self.invoke(arguments, options)
            except ToolInputError as error:
                return f"Error: {error.message}"

        return FunctionTool(
            name=self.name,
            description=self.description,
            params_json_schema=self.parameters,
            on_invoke_tool=on_invoke_tool,
            strict_json_schema=True,
        )


_registry: dict[str, BuiltinTool] = {}


def register(tool: BuiltinTool) -> BuiltinTool:
    """Make a tool available by its name; returns it, so it can decorate."""
    if not TOOL_NAME_PATTERN.match(tool.name):
        raise ValueError(
            f"Tool name {tool.name!r} must be 1-64 letters, digits, '_' or '-'."
        )
    existing = _registry.get(tool.name)
    if existing is not None and existing is not tool:
        raise ValueError(f"A tool named {tool.name!r} is already registered.")
    _registry[tool.name] = tool
    return tool


def get_tool(name: str) -> BuiltinTool:
    """The registered tool with this name; ``KeyError`` if there is none."""
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"No built-in tool named {name!r}.") from None


def all_tools() -> list[BuiltinTool]:
    """Every registered tool, sorted by name."""
    return sorted(_registry.values(), key=lambda tool: tool.name)


def tool_names() -> set[str]:
    """The names of every registered tool."""
    return set(_registry)
