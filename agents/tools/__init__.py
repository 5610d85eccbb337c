"""Built-in tools, discovered from a registry.

Importing this package registers every built-in tool:

    from agents.tools import all_tools, get_tool
    get_tool("calculator").as_sdk_tool()
"""

# Imported for their side effect: each module registers its tool.
from agents.tools import calculator, clock, file_search, http_request  # noqa: F401
from agents.tools.registry import (
    BuiltinTool,
    ToolInputError,
    all_tools,
    get_tool,
    register,
    tool_names,
)

__all__ = [
    "BuiltinTool",
    "ToolInputError",
    "all_tools",
    "get_tool",
    "register",
    "tool_names",
]
