"""The playground: chat with a model directly, instructions, model and tools
picked on the spot, then keep the result as an agent if it is worth it.

Behind it each user has one hidden, private agent (``is_playground``) whose
definition is whatever was last tried; its versions and runs are the
playground's history. Nothing else is saved, and it is never listed, shared or
offered as a tool.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents import definitions, selectors
from agents.models import Agent, Conversation, Run
from agents.services.agents import agent_create, agent_update
from agents.services.runs import run_start

# What the playground lets a user pick; everything else keeps its default.
PLAYGROUND_FIELDS = ("instructions", "model", "tools", "model_settings")
PLAYGROUND_NAME = "Playground"


def _playground_agent(*, user) -> Agent:
    agent = selectors.playground_agent(user=user)
    if agent is not None:
        return Agent.objects.select_for_update().get(pk=agent.pk)
    agent = agent_create(owner=user, data={"name": PLAYGROUND_NAME})
    Agent.objects.filter(pk=agent.pk).update(is_playground=True)
    agent.is_playground = True
    return agent


@transaction.atomic
def playground_run(
    *, user, data: dict[str, Any], input, conversation: Conversation | None = None
) -> Run:
    """Run ``data``'s instructions, model and tools on ``input``.

    Bad settings or input raise ValidationError with a message per field and
    save nothing (not even the playground's first version).
    """
    if not isinstance(data, dict):
        raise ValidationError({"__all__": [_("Send the settings as an object.")]})
    unknown = sorted(set(data) - set(PLAYGROUND_FIELDS))
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["__all__"] = [
            _("Unknown fields: %(names)s. The playground takes %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(PLAYGROUND_FIELDS)}
        ]
    if not isinstance(input, str) or not input.strip():
        errors["input"] = [_("Write a message for the model.")]
    agent = _playground_agent(user=user)
    try:
        with transaction.atomic():
            agent = agent_update(
                agent=agent,
                user=user,
                data={key: data[key] for key in PLAYGROUND_FIELDS if key in data},
            )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        # Roll back the playground agent too, if this call created it.
        raise ValidationError(errors)
    return run_start(agent=agent, user=user, input=input, conversation=conversation)


@transaction.atomic
def playground_save(*, user, name) -> Agent:
    """A new private agent with the playground's current settings."""
    playground = selectors.playground_agent(user=user)
    if playground is None:
        raise ValidationError(
            {"__all__": [_("Try something in the playground first.")]}
        )
    definition = definitions.definition_of(playground)
    definition["name"] = name
    return agent_create(owner=user, data=definition)
