"""Handoffs: adding, changing and removing the agents an agent may hand off
to. Only the agent's owner may, and only to agents they may use."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from agents.models import Agent, Handoff, InputFilter
from agents.selectors import agent_tool_candidates

MAX_HANDOFFS = 10
MAX_DESCRIPTION = 300


def _require_owner(agent, user) -> None:
    if agent.owner_id != user.pk:
        raise PermissionDenied(_("Only the agent's owner can change its handoffs."))


def _clean(*, description=None, input_filter=None) -> dict:
    cleaned, errors = {}, {}
    if description is not None:
        if not isinstance(description, str):
            errors["description"] = [_("Text, please.")]
        elif len(description.strip()) > MAX_DESCRIPTION:
            errors["description"] = [
                _("At most %(count)d characters.") % {"count": MAX_DESCRIPTION}
            ]
        else:
            cleaned["description"] = description.strip()
    if input_filter is not None:
        if input_filter not in InputFilter.values:
            errors["input_filter"] = [
                _("One of: %(choices)s.")
                % {"choices": ", ".join(repr(v) for v in InputFilter.values)}
            ]
        else:
            cleaned["input_filter"] = input_filter
    if errors:
        raise ValidationError(errors)
    return cleaned


def handoff_create(
    *, agent, user, target_id, description: str = "", input_filter: str = ""
) -> Handoff:
    """Let ``agent`` hand off to the agent ``target_id``."""

    _require_owner(agent, user)
    fields = _clean(description=description or "", input_filter=input_filter or "")
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        raise ValidationError({"target": [_("An agent's id.")]}) from None
    if target_id == agent.pk:
        raise ValidationError({"target": [_("An agent cannot hand off to itself.")]})
    target = agent_tool_candidates(owner_id=agent.owner_id).filter(pk=target_id).first()
    if target is None:
        raise ValidationError(
            {"target": [_("No such agent, or it is not yours or shared.")]}
        )
    with transaction.atomic():
        # The agent's row lock makes concurrent adds take turns, so the limit
        # holds and the order is unique.
        Agent.objects.select_for_update().only("pk").get(pk=agent.pk)
        existing = Handoff.objects.filter(agent=agent)
        if existing.filter(target=target).exists():
            message = _("The agent already hands off to %(name)s.")
            raise ValidationError({"target": [message % {"name": target.name}]})
        if existing.count() >= MAX_HANDOFFS:
            raise ValidationError(
                {"target": [_("At most %(count)d handoffs.") % {"count": MAX_HANDOFFS}]}
            )
        position = (existing.aggregate(last=Max("position"))["last"] or 0) + 1
        try:
            return Handoff.objects.create(
                agent=agent, target=target, position=position, **fields
            )
        except IntegrityError as error:  # a concurrent twin
            raise ValidationError(
                {"target": [_("The agent already hands off to that agent.")]}
            ) from error


def handoff_update(
    *, handoff: Handoff, user, description=None, input_filter=None
) -> Handoff:
    _require_owner(handoff.agent, user)
    fields = _clean(description=description, input_filter=input_filter)
    for name, value in fields.items():
        setattr(handoff, name, value)
    if fields:
        handoff.save(update_fields=list(fields))
    return handoff


def handoff_delete(*, handoff: Handoff, user) -> None:
    _require_owner(handoff.agent, user)
    handoff.delete()
