"""The OpenAI Agents SDK under the name ``agents_sdk``.

The SDK's import name is ``agents``, and so is this Django app's (the project's
layout fixes it). The project directory comes first on ``sys.path``, so a plain
``import agents`` finds the app. This module loads the SDK's package from its
installed files under the name ``agents_sdk``; its relative imports then resolve
inside ``agents_sdk``. A few SDK modules import themselves absolutely
(``from agents.util._types import ...``): a meta path finder answers those
``agents.<name>`` imports with the ``agents_sdk.<name>`` module, for every name
this app does not itself define.

Import SDK names from here: ``from agents.runtime.sdk import Agent, Runner``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

SDK_NAME = "agents_sdk"
APP_DIR = Path(__file__).resolve().parent.parent

# SDK modules imported absolutely through a name this app also uses
# (``agents.models`` is Django's models module here), so the finder cannot
# answer them; they are aliased before the SDK's package runs.
_PRELOADED = ("models._openai_shared",)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        # The module is the SDK's own, already executed.
        return None


class _SdkAliasFinder(importlib.abc.MetaPathFinder):
    """Answers ``agents.<sdk module>`` with ``agents_sdk.<sdk module>``."""

    def __init__(self, sdk_dir: Path) -> None:
        self.sdk_dir = sdk_dir

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("agents."):
            return None
        first = fullname.split(".")[1]
        if _module_exists(APP_DIR, first) or not _module_exists(self.sdk_dir, first):
            return None
        alias = SDK_NAME + fullname[len("agents") :]
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(alias))


def _module_exists(directory: Path, name: str) -> bool:
    return (directory / f"{name}.py").exists() or (directory / name).is_dir()


def _sdk_directory() -> Path:
    distribution = importlib.metadata.distribution("openai-agents")
    return Path(distribution.locate_file("agents/__init__.py")).parent


def _load():
    if SDK_NAME in sys.modules:
        return sys.modules[SDK_NAME]
    sdk_dir = _sdk_directory()
    spec = importlib.util.spec_from_file_location(
        SDK_NAME, sdk_dir / "__init__.py", submodule_search_locations=[str(sdk_dir)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[SDK_NAME] = module
    sys.meta_path.insert(0, _SdkAliasFinder(sdk_dir))
    try:
        for name in _PRELOADED:
            sys.modules[f"agents.{name}"] = importlib.import_module(
                f"{SDK_NAME}.{name}"
            )
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(SDK_NAME, None)
        raise
    return module


sdk = _load()

# Tracing would try to export to OpenAI's servers; runs are traced by their
# own steps in the database instead.
sdk.set_tracing_disabled(True)

from agents_sdk import (  # noqa: E402
    Agent,
    AgentOutputSchema,
    AgentOutputSchemaBase,
    FunctionTool,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    MaxTurnsExceeded,
    Model,
    ModelProvider,
    ModelResponse,
    ModelSettings,
    ModelTracing,
    OutputGuardrailTripwireTriggered,
    RunConfig,
    RunContextWrapper,
    Runner,
    Usage,
    input_guardrail,
    output_guardrail,
)

__all__ = [
    "Agent",
    "AgentOutputSchema",
    "AgentOutputSchemaBase",
    "FunctionTool",
    "GuardrailFunctionOutput",
    "InputGuardrailTripwireTriggered",
    "MaxTurnsExceeded",
    "Model",
    "ModelProvider",
    "ModelResponse",
    "ModelSettings",
    "ModelTracing",
    "OutputGuardrailTripwireTriggered",
    "RunConfig",
    "RunContextWrapper",
    "Runner",
    "Usage",
    "input_guardrail",
    "output_guardrail",
    "sdk",
]
