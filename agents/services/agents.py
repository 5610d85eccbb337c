"""Creating, editing and deleting agents; every change of definition is a version."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from agents import definitions, selectors
from agents.models import Agent, AgentVersion, CustomTool, Visibility

EDITABLE_FIELDS = (*definitions.DEFINITION_FIELDS, "tags", "visibility")


def _clean(agent: Agent, data: dict[str, Any], *, user) -> dict[str, Any]:
    """Checked values for the fields in ``data``; errors keyed by field."""
    errors: dict[str, list] = {}
    cleaned: dict[str, Any] = {}
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        errors["non_field_errors"] = [
            _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)}
        ]

    def attempt(name, function, *args, **kwargs):
        try:
            cleaned[name] = function(*args, **kwargs)
        except ValidationError as error:
            errors[name] = error.messages

    if "name" in data:
        attempt("name", definitions.clean_name, data["name"])
    for text_field in ("description", "instructions"):
        if text_field in data:
            value = data[text_field]
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[text_field] = [_("This must be text.")]
            else:
                cleaned[text_field] = value.strip()
    if "model" in data:
        identifier = data["model"] if isinstance(data["model"], str) else ""
        if selectors.model_get_active(identifier=identifier) is None:
            errors["model"] = [
                _("Unknown model %(model)r. Pick one from /api/v1/models/.")
                % {"model": identifier}
            ]
        else:
            cleaned["model"] = identifier
    if "tools" in data:
        owner_id = agent.owner_id or user.pk

        def custom_allowed(tool_id: int) -> bool:
            # Only the agent owner's own custom tools.
            return CustomTool.objects.filter(pk=tool_id, owner_id=owner_id).exists()

        attempt(
            "tools",
            definitions.clean_tools,
            data["tools"],
            custom_allowed=custom_allowed,
        )
        newly_disabled = sorted(
            (set(cleaned.get("tools", [])) - set(agent.tools or []))
            & selectors.disabled_tool_names()
        )
        if newly_disabled:
            errors["tools"] = [
                _("Switched off on this site by its staff: %(names)s.")
                % {"names": ", ".join(newly_disabled)}
            ]
    if "tool_options" in data:
        attempt(
            "tool_options",
            definitions.clean_tool_options,
            data["tool_options"],
            tools=cleaned.get("tools", agent.tools),
        )
    if "model_settings" in data:
        tools = cleaned.get("tools", agent.tools)
        attempt(
            "model_settings",
            definitions.clean_model_settings,
            data["model_settings"],
            tools=tools,
        )
    if "output_type" in data:
        attempt("output_type", definitions.clean_output_type, data["output_type"])
    if "guardrails" in data:

        def guard_allowed(agent_id: int) -> bool:
            return agent_id != agent.pk and selectors.agent_is_runnable_by(
                user=user, agent_id=agent_id
            )

        attempt(
            "guardrails",
            definitions.clean_guardrails,
            data["guardrails"],
            guard_agent_allowed=guard_allowed,
        )
    if "tags" in data:
        attempt("tags", definitions.clean_tags, data["tags"])
    if "visibility" in data:
        if data["visibility"] not in Visibility.values:
            errors["visibility"] = [
                _("Visibility must be one of: %(choices)s.")
                % {"choices": ", ".join(Visibility.values)}
            ]
        else:
            cleaned["visibility"] = data["visibility"]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _unique_slug(owner, name: str, *, exclude_pk=None) -> str:
    base = slugify(name)[:100] or "agent"
    slug, counter = base, 1
    taken = Agent.objects.filter(owner=owner)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        counter += 1
        slug = f"{base}-{counter}"
    return slug


def _version_create(*, agent: Agent, user) -> AgentVersion:
    agent.version_number += 1
    agent.save(update_fields=["version_number", "updated_at"])
    return AgentVersion.objects.create(
        agent=agent,
        number=agent.version_number,
        definition=definitions.definition_of(agent),
        created_by=user,
    )


@transaction.atomic
def agent_create(*, owner, data: dict[str, Any]) -> Agent:
    """A new agent (private unless asked otherwise) and its version 1."""
    agent = Agent(owner=owner)
    data = dict(data)
    data.setdefault("name", "")
    cleaned = _clean(agent, data, user=owner)
    for field, value in cleaned.items():
        setattr(agent, field, value)
    agent.slug = _unique_slug(owner, agent.name)
    agent.full_clean(exclude=["owner"])
    agent.save(force_insert=True)
    _version_create(agent=agent, user=owner)
    return agent


@transaction.atomic
def agent_update(*, agent: Agent, user, data: dict[str, Any]) -> Agent:
    """Apply ``data`` (any subset of the fields).

    A changed definition makes a new version; tags and visibility do not.
    """
    # Lock the row so two saves cannot both take the same version number.
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    cleaned = _clean(agent, data, user=user)
    before = definitions.definition_of(agent)
    changed = [f for f, v in cleaned.items() if getattr(agent, f) != v]
    for field in changed:
        setattr(agent, field, cleaned[field])
    if "name" in changed:
        agent.slug = _unique_slug(agent.owner, agent.name, exclude_pk=agent.pk)
        changed.append("slug")
    if not changed:
        return agent
    agent.full_clean(exclude=["owner"])
    agent.save(update_fields=[*changed, "updated_at"])
    if definitions.definition_of(agent) != before:
        _version_create(agent=agent, user=user)
    return agent


@transaction.atomic
def agent_delete(*, agent: Agent) -> None:
    """Delete the agent with its versions and runs."""
    agent.delete()


@transaction.atomic
def agent_import(*, owner, text) -> Agent:
    """A new private agent from an exported YAML file (agents.portability)."""
    from agents import portability

    document = portability.load(text)
    document = portability.resolve_guard_agents(document, user=owner)
    data = {k: v for k, v in document.items() if k != "agentry"}
    return agent_create(owner=owner, data=data)
