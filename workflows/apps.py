from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Handoffs between agents and multi-agent workflows."""

    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workflows import signals  # noqa: F401 (connects the receivers)
