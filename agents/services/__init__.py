"""Every write of the agents app: agents and versions, runs, steps."""

from agents.services.agents import (
    agent_create,
    agent_delete,
    agent_import,
    agent_update,
)
from agents.services.conversations import (
    conversation_delete,
    conversation_rename,
)
from agents.services.custom_tools import (
    custom_tool_check,
    custom_tool_delete,
    custom_tool_save,
)
from agents.services.forks import agent_fork
from agents.services.playground import playground_run, playground_save
from agents.services.provider_keys import (
    provider_key_delete,
    provider_key_save,
    provider_key_test,
)
from agents.services.runs import (
    run_cancel,
    run_claim,
    run_cost_estimate,
    run_delete,
    run_delete_many,
    run_execute,
    run_finish,
    run_requeue_stale,
    run_start,
    run_sweep_dead,
)
from agents.services.steps import run_events_group, run_push, run_step_save
from agents.services.tool_settings import tool_set_enabled

__all__ = [
    "agent_create",
    "agent_delete",
    "agent_fork",
    "agent_import",
    "agent_update",
    "conversation_delete",
    "conversation_rename",
    "custom_tool_check",
    "custom_tool_delete",
    "custom_tool_save",
    "playground_run",
    "playground_save",
    "provider_key_delete",
    "provider_key_save",
    "provider_key_test",
    "run_cancel",
    "run_claim",
    "run_cost_estimate",
    "run_delete",
    "run_delete_many",
    "run_events_group",
    "run_execute",
    "run_finish",
    "run_push",
    "run_requeue_stale",
    "run_start",
    "run_step_save",
    "run_sweep_dead",
    "tool_set_enabled",
]
