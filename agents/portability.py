"""Carrying agents in and out as one YAML file.

The file holds an agent's definition (the fields a version freezes), its tags,
and a format number. A guard agent is written as ``owner/slug``, since ids mean
nothing on another site; importing resolves it among the agents the importer
may run.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from agents.definitions import DEFINITION_FIELDS

FORMAT = 1
# The largest file accepted, in characters: far above any real definition.
MAX_CHARS = 200_000
DOCUMENT_FIELDS = ("agentry", *DEFINITION_FIELDS, "tags")


def agent_document(agent) -> dict[str, Any]:
    """The exported form of ``agent``, ready for ``dump``."""
    from agents.models import Agent

    document: dict[str, Any] = {"agentry": FORMAT}
    for field in DEFINITION_FIELDS:
        document[field] = getattr(agent, field)
    document["tags"] = list(agent.tags)
    guardrails = {}
    for stage, config in (agent.guardrails or {}).items():
        config = dict(config)
        if config.get("guard_agent"):
            guard = (
                Agent.objects.select_related("owner")
                .filter(pk=config["guard_agent"])
                .first()
            )
            if guard is None:
                config.pop("guard_agent")
            else:
                config["guard_agent"] = f"{guard.owner.username}/{guard.slug}"
        guardrails[stage] = config
    document["guardrails"] = guardrails
    return document


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def load(text: Any) -> dict[str, Any]:
    """Parse an exported file; ValidationError (under ``file``) if it is not one."""

    def refuse(message: str):
        raise ValidationError({"file": [message]})

    if not isinstance(text, str) or not text.strip():
        refuse(_("Send the agent's YAML file."))
    if len(text) > MAX_CHARS:
        refuse(_("The file is larger than %(n)d characters.") % {"n": MAX_CHARS})
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        refuse(_("The file is not valid YAML%(where)s.") % {"where": where})
    if not isinstance(document, dict):
        refuse(_("The file must be a mapping of fields, as an export writes it."))
    if document.get("agentry") != FORMAT:
        refuse(
            _('This is not an Agentry agent file (it needs "agentry: %(n)d").')
            % {"n": FORMAT}
        )
    unknown = sorted(str(key) for key in document if key not in DOCUMENT_FIELDS)
    if unknown:
        refuse(
            _("Unknown fields: %(names)s. An agent file may hold: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(DOCUMENT_FIELDS[1:])}
        )
    return document


def resolve_guard_agents(document: dict[str, Any], *, user) -> dict[str, Any]:
    """Turn ``owner/slug`` guard agents into ids of agents ``user`` may run."""
    from agents.models import Agent
    from agents.selectors import agent_visible_q

    guardrails = document.get("guardrails")
    if not isinstance(guardrails, dict):
        return document
    resolved = {}
    for stage, config in guardrails.items():
        if isinstance(config, dict) and isinstance(config.get("guard_agent"), str):
            username, _slash, slug = config["guard_agent"].partition("/")
            guard = Agent.objects.filter(
                agent_visible_q(user), owner__username__iexact=username, slug=slug
            ).first()
            if guard is None:
                raise ValidationError(
                    {
                        "guardrails": [
                            _(
                                "The guard agent %(ref)s is not an agent you can run "
                                "here. Import or share it first, or remove it."
                            )
                            % {"ref": config["guard_agent"]}
                        ]
                    }
                )
            config = {**config, "guard_agent": guard.pk}
        resolved[stage] = config
    return {**document, "guardrails": resolved}
