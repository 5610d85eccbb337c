"""Forking: a copy of someone's shared agent, owned by the forker, that
remembers where it came from."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from agents import selectors
from agents.models import Agent, AgentVersion, Visibility
from agents.services.agents import LISTING_FIELDS, agent_create
from billing.pricing import as_credits

DEFAULT_MODEL = "local/demo"


def _portable_definition(definition: dict, *, user) -> tuple[dict, list[str]]:
    """The origin's definition as the forker can use it, and what had to
    change: another person's webhook tools (their URLs and secrets) and
    models from their own endpoints do not travel."""
    data = dict(definition)
    # Versions keep the cap in milli-credits; agent_create takes credits.
    if data.get("max_credits_per_run") is not None:
        data["max_credits_per_run"] = as_credits(data["max_credits_per_run"])
    notes = []
    allowed_agents = set(
        selectors.agent_tool_candidates(owner_id=user.pk).values_list("pk", flat=True)
    )
    kept = []
    for tool in data.get("tools") or []:
        if tool.startswith("custom/"):
            notes.append(
                _("Left out %(tool)s: a webhook tool of its owner.") % {"tool": tool}
            )
            continue
        if (
            tool.startswith("agent/")
            and int(tool.split("/", 1)[1]) not in allowed_agents
        ):
            notes.append(
                _("Left out %(tool)s: an agent you cannot use.") % {"tool": tool}
            )
            continue
        kept.append(tool)
    data["tools"] = kept
    options = data.get("tool_options") or {}
    data["tool_options"] = {k: v for k, v in options.items() if k in kept}
    if selectors.model_usable(identifier=data.get("model", ""), user=user) is None:
        notes.append(
            _("%(model)s is not available to you: the fork uses %(default)s.")
            % {"model": data.get("model"), "default": DEFAULT_MODEL}
        )
        data["model"] = DEFAULT_MODEL
    fallback = data.get("fallback_model") or ""
    if fallback and (
        fallback == data["model"]
        or selectors.model_usable(identifier=fallback, user=user) is None
    ):
        notes.append(_("Left out the fallback model %(model)s.") % {"model": fallback})
        data["fallback_model"] = ""
    guardrails = data.get("guardrails") or {}
    for side, rules in list(guardrails.items()):
        guard = (rules or {}).get("guard_agent")
        if guard and not selectors.agent_is_runnable_by(user=user, agent_id=guard):
            guardrails[side] = {**rules, "guard_agent": None}
            notes.append(_("Left out a guard agent you cannot use."))
    data["guardrails"] = guardrails
    return data, notes


@transaction.atomic
def agent_fork(*, agent: Agent, user) -> tuple[Agent, list[str]]:
    """Copy ``agent``'s current version (and its listing) into a new private
    agent of ``user``'s; returns it and notes on what could not come along.

    Only shared agents can be forked: a private agent cannot, even by its
    owner (who can export it instead).
    """
    if agent.visibility == Visibility.PRIVATE or agent.is_playground:
        raise ValidationError(
            {"non_field_errors": [_("A private agent cannot be forked.")]}
        )
    version = AgentVersion.objects.get(agent=agent, number=agent.version_number)
    data, notes = _portable_definition(version.definition, user=user)
    data.update(
        {field: getattr(agent, field) for field in LISTING_FIELDS},
        tags=list(agent.tags),
        visibility=Visibility.PRIVATE,
    )
    fork = agent_create(owner=user, data=data)
    Agent.objects.filter(pk=fork.pk).update(
        forked_from=agent, forked_from_version=version.number
    )
    fork.forked_from, fork.forked_from_version = agent, version.number
    Agent.objects.filter(pk=agent.pk).update(fork_count=F("fork_count") + 1)
    from community.models import NotificationKind
    from community.services import notify

    notify(
        recipient=agent.owner,
        kind=NotificationKind.FORK,
        actor=user,
        text=_("%(user)s forked %(agent)s")
        % {"user": user.username, "agent": agent.name},
        url=agent.get_listing_url(),
        data={"agent": agent.pk, "fork": fork.pk},
    )
    return fork, notes
