from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Handoffs between agents and multi-agent workflows."""

    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agents.services.runs import agentless_runs_register
        from workflows import (
            runs,
            signals,  # noqa: F401 (connects the receivers)
            tasks,
        )

        # Runs without an agent are this app's: the agents app sends and
        # recovers them through what is registered here (looked up on each
        # call, so a test may replace either).
        agentless_runs_register(
            enqueue=lambda run_id: tasks.workflow_run_execute_task.delay(run_id),
            recover=lambda run: runs.workflow_run_recover(run=run),
        )
