"""Renaming and deleting conversations (runs start and continue them)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Conversation


@transaction.atomic
def conversation_rename(*, conversation: Conversation, title) -> Conversation:
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        raise ValidationError({"title": [_("Give the conversation a title.")]})
    if len(title) > 200:
        raise ValidationError({"title": [_("Keep the title to 200 characters.")]})
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Delete the conversation and, by cascade, its runs (see run_delete)."""
    conversation.delete()
