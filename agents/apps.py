from django.apps import AppConfig


class AgentsConfig(AppConfig):
    """Agent definitions, versions, tools, model providers, runs and the runtime."""

    name = "agents"
    default_auto_field = "django.db.models.BigAutoField"
