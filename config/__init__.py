# The Celery app is imported here so that shared_task binds to it as soon as
# Django loads (the standard layout from Celery's Django guide).
from config.celery import app as celery_app

__all__ = ("celery_app",)
