from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Users, profiles, follows, comments, ratings, messages and discovery."""

    name = "community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from community import (
            schema,  # noqa: F401 (registers the OpenAPI extension)
            signals,  # noqa: F401 (audit log; credential changes to websockets)
        )
