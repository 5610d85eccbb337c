from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Users, profiles, follows, comments, ratings, messages and discovery."""

    name = "community"
    default_auto_field = "django.db.models.BigAutoField"
