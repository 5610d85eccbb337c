from django.apps import AppConfig


class AgentsConfig(AppConfig):
    """Agent definitions, versions, tools, model providers, runs and the runtime."""

    name = "agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agents.metrics import run_metrics
        from config.metrics import state_metrics_register

        state_metrics_register(run_metrics)
