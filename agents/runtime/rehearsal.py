"""A run of the offline model rehearsed, for its estimate.

``local/demo`` is deterministic and instant, so the turns it would take on an
input, and the tokens each reports, can be played before the run: its own
answers decide how many turns there are (a sum in three steps calls the
calculator three times; a greeting answers at once), whatever those answers
become. Nothing leaves the rehearsal: the tools that only compute (the
calculator, the clock) are called, an agent used as a tool is rehearsed in
turn, a handoff goes on as its target, and every other tool answers a
placeholder of a typical result's size.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from agents.runtime.demo_model import DemoModel
from agents.runtime.output import JsonSchemaOutput
from agents.runtime.sdk import Agent, FunctionTool, ModelSettings, sdk
from agents.tools import get_tool
from agents.tools.registry import ToolInputError

logger = logging.getLogger(__name__)

# Tools without side effects or slow lookups: the rehearsal calls them.
PURE_TOOLS = ("calculator", "current_time")
# What another tool answers in the rehearsal: about 100 tokens.
PLACEHOLDER_RESULT = "result " * 57
MAX_TURNS = 10
# Agents used as tools, rehearsed this deep at most (as the executor's limit).
MAX_DEPTH = 3
# An agent run as a tool takes one argument (the SDK's Agent.as_tool).
AGENT_TOOL_SCHEMA = {
    "type": "object",
    "properties": {"input": {"type": "string"}},
    "required": ["input"],
    "additionalProperties": False,
}


@dataclass
class Context:
    """What the run may reach: its handoffs (agents.selectors.handoffs.handoff_graph)
    and the agents it uses as tools (RunSpec.agent_tools)."""

    handoffs: dict = field(default_factory=dict)
    handoff_definitions: dict = field(default_factory=dict)
    agent_tools: dict = field(default_factory=dict)
    turns: list[tuple[int, int]] = field(default_factory=list)


def _tools(definition: dict, context: Context) -> dict[str, tuple[FunctionTool, Any]]:
    """The agent's tools as the model is offered them, by name, each with
    what answers it: a built-in's name, or an agent tool's definition."""

    options = definition.get("tool_options") or {}
    tools = {}
    for reference in definition.get("tools") or []:
        entry = context.agent_tools.get(reference)
        if entry is not None:
            tool = FunctionTool(
                name=entry["tool_name"],
                description=entry.get("description")
                or f"Ask the agent {entry['definition'].get('name', '')}.",
                params_json_schema=AGENT_TOOL_SCHEMA,
                on_invoke_tool=None,
            )
            tools[tool.name] = (tool, entry["definition"])
            continue
        try:
            tool = get_tool(reference).as_sdk_tool(options.get(reference))
        except KeyError:
            # A webhook tool: offered by its reference, answering a placeholder.
            name = reference.replace("/", "_").replace(":", "_")
            tool = FunctionTool(
                name=name,
                description=reference,
                params_json_schema=AGENT_TOOL_SCHEMA,
                on_invoke_tool=None,
            )
        tools[tool.name] = (tool, tool.name)
    return tools


def _handoffs(agent_id, context: Context) -> dict[str, tuple]:
    """The SDK handoffs ``agent_id`` may make, by their tool's name, with
    the target's id (as executor.wire_handoffs gives them)."""

    found = {}
    for edge in context.handoffs.get(agent_id) or []:
        target = context.handoff_definitions.get(edge["target"])
        if target is None:
            continue
        name = target.get("name") or f"agent {edge['target']}"
        sdk_handoff = sdk.handoff(
            Agent(name=name, instructions=target.get("instructions") or ""),
            tool_description_override=edge.get("description")
            or f"Hand the conversation to {name}. {target.get('description') or ''}",
        )
        found[sdk_handoff.tool_name] = (sdk_handoff, edge["target"])
    return found


def _builtin_result(name: str, arguments: str) -> str:

    if name not in PURE_TOOLS:
        return PLACEHOLDER_RESULT
    try:
        return str(get_tool(name).invoke(json.loads(arguments or "{}"), None))
    except (ToolInputError, ValueError) as error:
        # A bad argument is an answer too, as in a run.
        return f"Error: {error}"


def _text(output: list[Any]) -> str:
    return "".join(
        getattr(part, "text", "")
        for item in output
        if item.type == "message"
        for part in item.content
    )


async def _rehearse(
    definition: dict, text: str, context: Context, *, agent_id=None, depth: int = 0
) -> str:
    """Play the run, adding each turn's tokens to ``context.turns``; returns
    its final answer."""
    model = DemoModel()
    items: list[Any] = [{"role": "user", "content": text}]
    current, current_id = definition, agent_id
    for _turn in range(MAX_TURNS):
        tools = _tools(current, context)
        handoffs = _handoffs(current_id, context)
        schema = current.get("output_type")
        response = await model.get_response(
            current.get("instructions") or "",
            items,
            ModelSettings(),
            [tool for tool, _answer in tools.values()],
            JsonSchemaOutput(schema) if schema else None,
            [each for each, _target in handoffs.values()],
            None,
        )
        context.turns.append(
            (response.usage.input_tokens, response.usage.output_tokens)
        )
        calls = [item for item in response.output if item.type == "function_call"]
        if not calls:
            return _text(response.output)
        items.extend(item.model_dump(exclude_unset=True) for item in response.output)
        for call in calls:
            if call.name in handoffs:
                sdk_handoff, current_id = handoffs[call.name]
                current = context.handoff_definitions[current_id]
                output = json.dumps({"assistant": sdk_handoff.agent_name})
            elif isinstance(answer := tools.get(call.name, (None, ""))[1], dict):
                nested_input = json.loads(call.arguments or "{}").get("input", "")
                output = (
                    await _rehearse(answer, nested_input, context, depth=depth + 1)
                    if depth + 1 < MAX_DEPTH
                    else PLACEHOLDER_RESULT
                )
            else:
                output = _builtin_result(answer, call.arguments)
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": call.call_id,
                    "output": output,
                }
            )
    return ""


def offline_turns(
    *,
    definition: dict,
    input: str,
    agent_id: int | None = None,
    handoffs: dict | None = None,
    handoff_definitions: dict | None = None,
    agent_tools: dict | None = None,
) -> list[tuple[int, int]] | None:
    """The input and output tokens of each turn the offline model would take
    on ``input`` as the agent ``definition`` (the agent ``agent_id``, which
    may hand off as ``handoffs`` say and use ``agent_tools``, as a RunSpec
    has them), nested agents' turns included; None if the rehearsal failed
    (the caller estimates another way)."""
    context = Context(
        handoffs=handoffs or {},
        handoff_definitions=handoff_definitions or {},
        agent_tools=agent_tools or {},
    )
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(
            _rehearse(definition, input or " ", context, agent_id=agent_id)
        )
    except Exception:
        logger.warning("The offline model's rehearsal failed", exc_info=True)
        return None
    finally:
        loop.close()
    return context.turns
