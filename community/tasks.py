"""Celery tasks for the community app: thin wrappers over services."""

from celery import shared_task

from community.emails import notification_email_send
from config.live import user_event_push


@shared_task(name="community.user_event_push")
def user_event_push_task(user_id: int, event: dict) -> None:
    """Push a live event to a user's websockets from a background worker."""
    user_event_push(user_id=user_id, event=event)


@shared_task(name="community.notification_email")
def notification_email_task(notification_id: int) -> bool:
    """Email a notification if its recipient wants it (queued by notify)."""
    return notification_email_send(notification_id=notification_id)
