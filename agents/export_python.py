"""An agent as a runnable Python script on the OpenAI Agents SDK alone.

The script carries the code of the built-in tools it uses (copied from
``agents/tools/``), the output type as a JSON-schema output, and the blocked
words, patterns and length limit as an input guardrail. What exists only on
Agentry (the offline demo model, guard agents) is replaced or left out, with a
comment saying so.
"""

from __future__ import annotations

import inspect
import json
import re

from agents.tools import get_tool

# Built-in tools whose code runs on its own (no Agentry modules behind it).
STANDALONE_TOOLS = ("calculator", "current_time")

HEADER = '''"""{name}: {description}

Exported from Agentry (version {version}). Runs on the OpenAI Agents SDK:

    pip install {requirement} jsonschema
{environment}
    python {slug}.py "your request"
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from typing import Any

import jsonschema
from agents import (
    Agent,
    AgentOutputSchemaBase,
    FunctionTool,
    GuardrailFunctionOutput,
    ModelSettings,
    Runner,
    input_guardrail,
)
from agents.exceptions import ModelBehaviorError
{model_imports}'''

TOOL_SUPPORT = """

# Agentry's built-in tools, copied from its source.


class ToolInputError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclasses.dataclass
class BuiltinTool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Any


TOOLS: dict[str, BuiltinTool] = {}


def register(tool: BuiltinTool) -> BuiltinTool:
    TOOLS[tool.name] = tool
    return tool


def as_function_tool(tool: BuiltinTool) -> FunctionTool:
    async def invoke(context, arguments_json: str) -> str:
        try:
            return tool.handler(json.loads(arguments_json or "{}"))
        except (ToolInputError, json.JSONDecodeError) as error:
            return f"Error: {error}"

    return FunctionTool(
        name=tool.name,
        description=tool.description,
        params_json_schema=tool.parameters,
        on_invoke_tool=invoke,
        strict_json_schema=True,
    )
"""

OUTPUT_SUPPORT = '''

class JsonSchemaOutput(AgentOutputSchemaBase):
    """The agent's output type: JSON valid against OUTPUT_SCHEMA."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema

    def is_plain_text(self) -> bool:
        return False

    def name(self) -> str:
        return "final_output"

    def json_schema(self) -> dict[str, Any]:
        return self.schema

    def is_strict_json_schema(self) -> bool:
        return False

    def validate_json(self, json_str: str) -> Any:
        try:
            value = json.loads(json_str)
            jsonschema.validate(value, self.schema)
        except (json.JSONDecodeError, jsonschema.ValidationError) as error:
            message = f"The answer does not fit the output type: {error}"
            raise ModelBehaviorError(message) from None
        return value
'''

GUARDRAIL_SUPPORT = '''

INPUT_RULES = {rules}


@input_guardrail(run_in_parallel=False)
async def check_input(context, agent, value) -> GuardrailFunctionOutput:
    """Agentry's input guardrail: blocked words, patterns and a length limit."""
    import re

    text = value if isinstance(value, str) else json.dumps(value)
    reason = None
    limit = INPUT_RULES.get("max_length")
    if limit and len(text) > limit:
        reason = f"The input is longer than {{limit}} characters."
    for word in INPUT_RULES.get("blocked_words", []):
        if re.search(rf"(?<!\\w){{re.escape(word)}}(?!\\w)", text, re.IGNORECASE):
            reason = reason or f"It contains {{word!r}}."
    for pattern in INPUT_RULES.get("blocked_patterns", []):
        if re.search(pattern, text):
            reason = reason or f"It matches {{pattern!r}}."
    return GuardrailFunctionOutput(output_info=reason, tripwire_triggered=bool(reason))
'''

FOOTER = """

def build_agent() -> Agent:
    return Agent(
        name={name!r},
        instructions={instructions!r},
        model={model},{model_comment}
        model_settings=ModelSettings({settings}),
        tools=[{tools}],
        output_type={output_type},
        input_guardrails=[{guardrails}],
    )


async def main(text: str) -> None:
    result = await Runner.run(build_agent(), text)
    output = result.final_output
    print(output if isinstance(output, str) else json.dumps(output, indent=2))


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or input("> ")))
"""


def _tool_source(name: str) -> str:
    """The module that defines a built-in tool, minus what the script replaces."""
    tool = get_tool(name)
    source = inspect.getsource(inspect.getmodule(tool.handler))
    source = source.replace("from __future__ import annotations\n", "")
    source = re.sub(
        r"^from agents\.tools\.registry import .*\n", "", source, flags=re.M
    )
    return f"\n\n# --- {name} ---\n{source}"


# Providers the script reaches over Chat Completions: the environment it needs,
# the openai client class, and that client's arguments.
CHAT_COMPLETIONS_CLIENTS = {
    "compatible": (
        [
            "export OPENAI_COMPATIBLE_BASE_URL=https://your-server/v1",
            "export OPENAI_COMPATIBLE_API_KEY=...  # if the server needs one",
        ],
        "AsyncOpenAI",
        '                base_url=os.environ["OPENAI_COMPATIBLE_BASE_URL"],\n'
        "                api_key=os.environ.get(\n"
        '                    "OPENAI_COMPATIBLE_API_KEY", "none"\n'
        "                ),\n",
    ),
    "ollama": (
        ["export OLLAMA_BASE_URL=http://127.0.0.1:11434  # where Ollama runs"],
        "AsyncOpenAI",
        "                base_url=os.environ.get(\n"
        '                    "OLLAMA_BASE_URL", "http://127.0.0.1:11434"\n'
        '                ).rstrip("/") + "/v1",\n'
        '                api_key="ollama",\n',
    ),
    "azure": (
        [
            "export AZURE_OPENAI_ENDPOINT=https://your-resource.openai.azure.com",
            "export AZURE_OPENAI_API_KEY=...",
            "export AZURE_OPENAI_API_VERSION=2024-10-21",
        ],
        "AsyncAzureOpenAI",
        '                azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],\n'
        '                api_key=os.environ["AZURE_OPENAI_API_KEY"],\n'
        "                api_version=os.environ.get(\n"
        '                    "AZURE_OPENAI_API_VERSION", "2024-10-21"\n'
        "                ),\n",
    ),
}


def _model_setup(identifier: str) -> dict:
    """How the script reaches the agent's model with the SDK alone."""
    provider, _, name = identifier.partition("/")
    setup = {
        "requirement": "openai-agents",
        "environment": ["export OPENAI_API_KEY=sk-..."],
        "imports": "",
        "expression": repr(name),
        "comment": "",
    }
    if provider in CHAT_COMPLETIONS_CLIENTS:
        environment, client_class, client = CHAT_COMPLETIONS_CLIENTS[provider]
        setup["environment"] = environment
        setup["imports"] = (
            "from agents import OpenAIChatCompletionsModel\n"
            f"from openai import {client_class}\n"
        )
        setup["expression"] = (
            "OpenAIChatCompletionsModel(\n"
            f"            model={name!r},\n"
            f"            openai_client={client_class}(\n"
            f"{client}"
            "            ),\n"
            "        )"
        )
    elif provider in ("anthropic", "gemini"):
        setup["requirement"] = "'openai-agents[litellm]'"
        setup["environment"] = [f"export {provider.upper()}_API_KEY=..."]
        # LiteLLM would otherwise fetch its price list from the internet.
        setup["imports"] = (
            '\nos.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")\n'
        )
        setup["expression"] = repr(f"litellm/{provider}/{name}")
    elif provider != "openai":
        setup["expression"] = repr("gpt-4.1-mini")
        setup["comment"] = (
            f"  # {identifier} exists only on Agentry; an OpenAI model stands in."
        )
    return setup


def python_script(agent) -> str:
    definition = {
        "name": agent.name,
        "instructions": agent.instructions,
        "model": agent.model,
        "model_settings": agent.model_settings or {},
        "tools": agent.tools or [],
        "guardrails": agent.guardrails or {},
        "output_type": agent.output_type,
    }
    model_setup = _model_setup(definition["model"])
    model_comment = model_setup["comment"]
    if agent.fallback_model:
        model_comment += (
            f"\n        # Agentry falls back to {agent.fallback_model} when this "
            "model fails; the SDK alone does not."
        )
    settings = dict(definition["model_settings"])
    if "max_output_tokens" in settings:
        settings["max_tokens"] = settings.pop("max_output_tokens")
    parts = [
        HEADER.format(
            name=agent.name,
            description=(agent.description or "an agent").replace('"""', "'''"),
            version=agent.version_number,
            slug=agent.slug,
            requirement=model_setup["requirement"],
            environment="\n".join(f"    {line}" for line in model_setup["environment"]),
            model_imports=model_setup["imports"],
        )
    ]
    left_out = [name for name in definition["tools"] if name not in STANDALONE_TOOLS]
    definition["tools"] = [n for n in definition["tools"] if n in STANDALONE_TOOLS]
    if definition["tools"]:
        parts.append(TOOL_SUPPORT)
        parts.extend(_tool_source(name) for name in definition["tools"])
    if left_out:
        names = ", ".join(left_out)
        model_comment += f"\n        # Not exported (they need Agentry): {names}."
    output_type = "None"
    if definition["output_type"]:
        parts.append(OUTPUT_SUPPORT)
        schema = json.dumps(definition["output_type"])
        parts.append(f"\n\nOUTPUT_SCHEMA = json.loads({schema!r})\n")
        output_type = "JsonSchemaOutput(OUTPUT_SCHEMA)"
    input_rules = dict(definition["guardrails"].get("input") or {})
    guardrails = ""
    if input_rules.pop("guard_agent", None):
        model_comment += (
            "\n        # The guard agent is an Agentry agent: not exported."
        )
    if input_rules:
        parts.append(GUARDRAIL_SUPPORT.format(rules=repr(input_rules)))
        guardrails = "check_input"
    if definition["guardrails"].get("output"):
        model_comment += "\n        # Output guardrails are not exported."
    parts.append(
        FOOTER.format(
            name=agent.name,
            instructions=definition["instructions"] or None,
            model=model_setup["expression"],
            model_comment=model_comment,
            settings=", ".join(f"{key}={value!r}" for key, value in settings.items()),
            tools=", ".join(
                f"as_function_tool(TOOLS[{name!r}])" for name in definition["tools"]
            ),
            output_type=output_type,
            guardrails=guardrails,
        )
    )
    return "".join(parts)
