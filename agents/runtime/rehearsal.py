"""A run of the offline model rehearsed, for its estimate.

``local/demo`` is deterministic and instant, so the turns it would take on an
input, and the tokens each reports, can be played before the run: its own
answers decide how many turns there are (a sum in three steps calls the
calculator three times; a greeting answers at once), whatever those answers
become. Nothing leaves the rehearsal: the tools that only compute (the
calculator, the clock) are called, every other tool answers a placeholder of
a typical result's size, and a handoff goes on as its target.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from agents.runtime.demo_model import DemoModel
from agents.runtime.output import JsonSchemaOutput
from agents.runtime.sdk import Agent, FunctionTool, ModelSettings

logger = logging.getLogger(__name__)

# Tools without side effects or slow lookups: the rehearsal calls them.
PURE_TOOLS = ("calculator", "current_time")
# What another tool answers in the rehearsal: about 100 tokens.
PLACEHOLDER_RESULT = "result " * 57
MAX_TURNS = 10


def _tools(names: list[str], options: dict) -> list[FunctionTool]:
    from agents.tools import get_tool

    tools = []
    for name in names:
        try:
            builtin = get_tool(name)
        except KeyError:
            # An agent run as a tool, or a webhook tool: called by its name.
            tools.append(
                FunctionTool(
                    name=name.replace("/", "_").replace(":", "_"),
                    description=name,
                    params_json_schema={
                        "type": "object",
                        "properties": {"input": {"type": "string"}},
                        "required": ["input"],
                        "additionalProperties": False,
                    },
                    on_invoke_tool=None,
                )
            )
            continue
        tools.append(builtin.as_sdk_tool(options.get(name)))
    return tools


def _result(tool_name: str, arguments: str) -> str:
    from agents.tools import get_tool
    from agents.tools.registry import ToolInputError

    if tool_name not in PURE_TOOLS:
        return PLACEHOLDER_RESULT
    try:
        return str(get_tool(tool_name).invoke(json.loads(arguments or "{}"), None))
    except (ToolInputError, ValueError) as error:
        # A bad argument is an answer too, as in a run.
        return f"Error: {error}"


def _handoffs(agent_id, graph: dict, definitions: dict) -> dict[str, tuple]:
    """The SDK handoffs ``agent_id`` may make, by their tool's name, with
    the target's id (as executor.wire_handoffs gives them)."""
    from agents_sdk import handoff

    found = {}
    for edge in graph.get(agent_id) or []:
        target = definitions.get(edge["target"])
        if target is None:
            continue
        name = target.get("name") or f"agent {edge['target']}"
        sdk_handoff = handoff(
            Agent(name=name, instructions=target.get("instructions") or ""),
            tool_description_override=edge.get("description")
            or f"Hand the conversation to {name}. {target.get('description') or ''}",
        )
        found[sdk_handoff.tool_name] = (sdk_handoff, edge["target"])
    return found


async def _turns(
    definition: dict,
    text: str,
    model: DemoModel,
    *,
    agent_id=None,
    graph: dict,
    definitions: dict,
) -> list[tuple[int, int]]:
    items: list[Any] = [{"role": "user", "content": text}]
    turns = []
    current, current_id = definition, agent_id
    for _turn in range(MAX_TURNS):
        tools = _tools(
            list(current.get("tools") or []), current.get("tool_options") or {}
        )
        handoffs = _handoffs(current_id, graph, definitions)
        schema = current.get("output_type")
        response = await model.get_response(
            current.get("instructions") or "",
            items,
            ModelSettings(),
            tools,
            JsonSchemaOutput(schema) if schema else None,
            [each for each, _target in handoffs.values()],
            None,
        )
        usage = response.usage
        turns.append((usage.input_tokens, usage.output_tokens))
        calls = [item for item in response.output if item.type == "function_call"]
        if not calls:
            return turns
        for item in response.output:
            items.append(item.model_dump(exclude_unset=True))
        for call in calls:
            if call.name in handoffs:
                sdk_handoff, current_id = handoffs[call.name]
                current = definitions[current_id]
                output = json.dumps({"assistant": sdk_handoff.agent_name})
            else:
                output = _result(call.name, call.arguments)
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": call.call_id,
                    "output": output,
                }
            )
    return turns


def offline_turns(
    *,
    definition: dict,
    input: str,
    agent_id: int | None = None,
    handoffs: dict | None = None,
    handoff_definitions: dict | None = None,
) -> list[tuple[int, int]] | None:
    """The input and output tokens of each turn the offline model would take
    on ``input`` as the agent ``definition`` (the agent ``agent_id``, which
    may hand off as ``handoffs`` say: workflows.selectors.handoff_graph);
    None if the rehearsal failed (the caller estimates another way)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(
            _turns(
                definition,
                input or " ",
                DemoModel(),
                agent_id=agent_id,
                graph=handoffs or {},
                definitions=handoff_definitions or {},
            )
        )
    except Exception:
        logger.warning("The offline model's rehearsal failed", exc_info=True)
        return None
    finally:
        loop.close()
