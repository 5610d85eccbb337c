from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommunityConfig(AppConfig):
    """Users, profiles, follows, comments, ratings, messages and discovery."""

    name = "community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After django.contrib.sites' own handler (an earlier app) has made
        # the example.com row: give it the site's real name.
        from config.sites import site_update_after_migrate  # models: after setup

        post_migrate.connect(site_update_after_migrate, sender=self)
        from community import (
            schema,  # noqa: F401 (registers the OpenAPI extension)
            signals,  # noqa: F401 (audit log; credential changes to websockets)
        )
