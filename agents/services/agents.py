"""Creating, editing and deleting agents; every change of definition is a version."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from agents import definitions, selectors
from agents.models import Agent, AgentVersion, Category, CustomTool, Visibility
from agents.services.search import agent_search_index
from community.audit import audit_record, visibility_action

SEARCHED_FIELDS = {"name", "tags", "description", "long_description"}
LISTING_FIELDS = ("category", "long_description", "example_prompts")
EDITABLE_FIELDS = (
    *definitions.DEFINITION_FIELDS,
    "tags",
    "visibility",
    *LISTING_FIELDS,
)


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
    # Models: the catalog's, or the models the owner's own endpoint listed.
    model_owner = agent.owner if agent.owner_id else user
    if "model" in data:
        identifier = data["model"] if isinstance(data["model"], str) else ""
        if selectors.model_usable(identifier=identifier, user=model_owner) is None:
            errors["model"] = [
                _("Unknown model %(model)r. Pick one from /api/v1/models/.")
                % {"model": identifier}
            ]
        else:
            cleaned["model"] = identifier
    if "max_credits_per_run" in data:
        attempt(
            "max_credits_per_run",
            definitions.clean_max_credits_per_run,
            data["max_credits_per_run"],
        )
    if "fallback_model" in data:
        identifier = data["fallback_model"] or ""
        primary = cleaned.get("model", data.get("model", agent.model))
        if not isinstance(identifier, str):
            errors["fallback_model"] = [_("Give a model identifier, or leave empty.")]
        elif identifier and identifier == primary:
            errors["fallback_model"] = [
                _("The fallback must differ from the agent's model.")
            ]
        elif identifier and (
            selectors.model_usable(identifier=identifier, user=model_owner) is None
        ):
            errors["fallback_model"] = [
                _("Unknown model %(model)r. Pick one from /api/v1/models/.")
                % {"model": identifier}
            ]
        else:
            cleaned["fallback_model"] = identifier
    if "tools" in data:
        owner_id = agent.owner_id or user.pk

        def custom_allowed(tool_id: int) -> bool:
            # Only the agent owner's own custom tools.
            return CustomTool.objects.filter(pk=tool_id, owner_id=owner_id).exists()

        def agent_allowed(agent_id: int) -> bool:
            # The owner's own agents and shared ones (cycles are checked below).
            return (
                selectors.agent_tool_candidates(owner_id=owner_id)
                .filter(pk=agent_id)
                .exists()
            )

        attempt(
            "tools",
            definitions.clean_tools,
            data["tools"],
            custom_allowed=custom_allowed,
            agent_allowed=agent_allowed,
        )
        cycle = _agent_tool_cycle(agent, cleaned.get("tools", []))
        if cycle:
            errors["tools"] = [
                _(
                    "Agents used as tools would call each other in a circle "
                    "(%(path)s). Remove one of them."
                )
                % {"path": " → ".join(cycle)}
            ]
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
        elif (
            data["visibility"] != Visibility.PRIVATE
            and data["visibility"] != agent.visibility
            and getattr(user, "is_suspended", False)
        ):
            errors["visibility"] = [
                _("Your account is suspended: you cannot publish or share agents.")
            ]
        else:
            cleaned["visibility"] = data["visibility"]
    if "category" in data:
        value = data["category"] or ""
        if value not in ["", *Category.values]:
            errors["category"] = [
                _("Category must be one of: %(choices)s.")
                % {"choices": ", ".join(Category.values)}
            ]
        else:
            cleaned["category"] = value
    if "long_description" in data:
        attempt(
            "long_description",
            definitions.clean_long_description,
            data["long_description"],
        )
    if "example_prompts" in data:
        attempt(
            "example_prompts",
            definitions.clean_example_prompts,
            data["example_prompts"],
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _agent_tool_cycle(agent: Agent, tools: list[str]) -> list[str]:
    """Names along a circle of agents-as-tools that ``tools`` would close for
    ``agent`` (itself included), or [] if there is none."""
    if agent.pk is None:
        return []
    prefix = definitions.AGENT_TOOL_PREFIX

    def refs(names) -> list[int]:
        return [
            int(name[len(prefix) :])
            for name in names or []
            if name.startswith(prefix) and name[len(prefix) :].isdigit()
        ]

    names = {agent.pk: agent.name}
    # Depth-first over the latest definitions, from the tools being saved.
    stack = [(ref, [agent.pk, ref]) for ref in refs(tools)]
    seen = set()
    while stack:
        current, path = stack.pop()
        if current == agent.pk:
            found = {
                a.pk: a.name for a in Agent.objects.filter(pk__in=path).only("name")
            }
            names.update(found)
            return [names.get(pk, f"#{pk}") for pk in path]
        if current in seen:
            continue
        seen.add(current)
        following = Agent.objects.filter(pk=current).values_list("tools", flat=True)
        for ref in refs(following.first()):
            stack.append((ref, [*path, ref]))
    return []


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
    if agent.visibility == Visibility.PUBLIC:
        agent.published_at = timezone.now()
    agent.full_clean(exclude=["owner"])
    agent.save(force_insert=True)
    _version_create(agent=agent, user=owner)
    agent_search_index(agent_id=agent.pk)
    _audit_visibility(agent, user=owner, before=Visibility.PRIVATE)
    return agent


def _audit_visibility(agent: Agent, *, user, before: str) -> None:
    action = visibility_action("agent", before, agent.visibility)
    if action is not None:
        audit_record(
            action=action,
            actor=user,
            target=agent,
            details={"from": before, "to": agent.visibility},
        )


@transaction.atomic
def agent_update(*, agent: Agent, user, data: dict[str, Any]) -> Agent:
    """Apply ``data`` (any subset of the fields).

    A changed definition makes a new version; tags and visibility do not.
    """
    # Lock the row so two saves cannot both take the same version number.
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    cleaned = _clean(agent, data, user=user)
    visibility_before = agent.visibility
    before = definitions.definition_of(agent)
    changed = [f for f, v in cleaned.items() if getattr(agent, f) != v]
    for field in changed:
        setattr(agent, field, cleaned[field])
    if "name" in changed:
        agent.slug = _unique_slug(agent.owner, agent.name, exclude_pk=agent.pk)
        changed.append("slug")
    if not changed:
        return agent
    if agent.visibility == Visibility.PUBLIC and agent.published_at is None:
        # Published: Discover lists the current version from now on.
        agent.published_at = timezone.now()
        changed.append("published_at")
    agent.full_clean(exclude=["owner"])
    agent.save(update_fields=[*changed, "updated_at"])
    if definitions.definition_of(agent) != before:
        _version_create(agent=agent, user=user)
    if set(changed) & SEARCHED_FIELDS:
        agent_search_index(agent_id=agent.pk)
    _audit_visibility(agent, user=user, before=visibility_before)
    return agent


@transaction.atomic
def agent_delete(*, agent: Agent) -> None:
    """Delete the agent with its versions and runs."""
    agent.delete()


@transaction.atomic
def agent_transfer(*, agent: Agent, owner) -> Agent:
    """Give ``agent`` to ``owner`` (account deletion hands shared agents to
    the "deleted-user" account, so others' forks, runs and workflows keep
    working). The previous owner's webhook tools are not the new owner's and
    leave with the previous account: they are dropped from the definition,
    which then makes a new version. The slug is made unique for the new
    owner."""
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    before = definitions.definition_of(agent)
    agent.tools = [
        name
        for name in agent.tools or []
        if not name.startswith(definitions.CUSTOM_PREFIX)
    ]
    agent.owner = owner
    agent.slug = _unique_slug(owner, agent.name, exclude_pk=agent.pk)
    agent.save(update_fields=["owner", "slug", "tools", "updated_at"])
    if definitions.definition_of(agent) != before:
        _version_create(agent=agent, user=None)
    return agent


def _same_webhook_tool(tool: CustomTool, entry: dict[str, Any]) -> bool:
    """Whether ``tool`` is what the file describes (a file without a URL, as
    others than the owner export it, is judged by its parameters alone)."""
    url = entry.get("webhook_url")
    if url is not None and (
        not isinstance(url, str) or url.strip() != tool.webhook_url
    ):
        return False
    return tool.parameters == entry.get("parameters")


def _import_custom_tools(
    document: dict[str, Any], *, owner
) -> tuple[dict[str, Any], list[str]]:
    """Turn the file's ``custom:<name>`` tools into references to ``owner``'s
    own tools, creating those they lack; also returns notes for the importer.

    Runs inside agent_import's transaction: a refusal undoes the tools made.
    """
    from agents import portability
    from agents.services.custom_tools import custom_tool_save

    tools = document.get("tools")
    if not isinstance(tools, list):
        return document, []
    entries = {entry["name"]: entry for entry in document.get("custom_tools") or []}
    prefix = portability.FILE_CUSTOM_PREFIX
    resolved: list[Any] = []
    renamed: dict[str, str] = {}
    notes: list[str] = []
    tool_errors: list[str] = []
    definition_errors: list[str] = []
    for name in tools:
        if not isinstance(name, str) or not name.startswith(
            (prefix, definitions.CUSTOM_PREFIX)
        ):
            resolved.append(name)  # agent_create judges the rest
            continue
        if name.startswith(definitions.CUSTOM_PREFIX):
            tool_errors.append(
                _(
                    "%(ref)s: a webhook tool travels by name, as custom:<name> "
                    "described under custom_tools. Export the agent again."
                )
                % {"ref": name}
            )
            continue
        tool_name = name[len(prefix) :]
        entry = entries.get(tool_name)
        if entry is None:
            tool_errors.append(
                _("%(ref)s is not described under custom_tools.") % {"ref": name}
            )
            continue
        tool = CustomTool.objects.filter(owner=owner, name=tool_name).first()
        if tool is not None:
            if _same_webhook_tool(tool, entry):
                renamed[name] = tool.reference
                resolved.append(tool.reference)
                notes.append(
                    _("Attached your webhook tool %(tool)s.") % {"tool": tool_name}
                )
            else:
                definition_errors.append(
                    _(
                        "%(tool)s: you already have a webhook tool of this name "
                        "with another URL or other parameters. Rename yours, or "
                        "the tool in the file, and import again."
                    )
                    % {"tool": tool_name}
                )
            continue
        if "webhook_url" not in entry:
            definition_errors.append(
                _(
                    "%(tool)s: the file has no webhook URL for this tool (only "
                    "the agent's owner exports it). Create a webhook tool named "
                    "%(tool)s with these parameters, then import again."
                )
                % {"tool": tool_name}
            )
            continue
        data = {
            key: entry.get(key)
            for key in ("name", "description", "parameters", "webhook_url")
        }
        try:
            tool = custom_tool_save(owner=owner, data=data)
        except ValidationError as error:
            definition_errors.extend(
                f"{tool_name}: {field}: {message}"
                for field, messages in error.message_dict.items()
                for message in messages
            )
            continue
        renamed[name] = tool.reference
        resolved.append(tool.reference)
        notes.append(
            _("Created your webhook tool %(tool)s from the file.") % {"tool": tool_name}
        )
        if entry.get("secret_header_name"):
            notes.append(
                _(
                    "The webhook tool %(tool)s was sent with a secret header "
                    "(%(header)s), whose value is never exported: it is created "
                    "without it. Set it on the Tools page if the webhook needs it."
                )
                % {"tool": tool_name, "header": entry["secret_header_name"]}
            )
    errors = {}
    if tool_errors:
        errors["tools"] = tool_errors
    if definition_errors:
        errors["custom_tools"] = definition_errors
    if errors:
        raise ValidationError(errors)
    document = {**document, "tools": resolved}
    model_settings = document.get("model_settings")
    choice = (
        model_settings.get("tool_choice") if isinstance(model_settings, dict) else None
    )
    if isinstance(choice, str) and choice in renamed:
        document["model_settings"] = {**model_settings, "tool_choice": renamed[choice]}
    return document, notes


@transaction.atomic
def agent_import(*, owner, text) -> Agent:
    """A new private agent from an exported YAML file (agents.portability).

    The owner's webhook tools the file lists are attached, or created when they
    have none of that name. What the importer should know (a tool created, a
    secret header to set) is in the returned agent's ``import_notes``.
    """
    from agents import portability

    document = portability.load(text)
    document = portability.resolve_guard_agents(document, user=owner)
    document = portability.resolve_agent_tools(document, user=owner)
    document, notes = _import_custom_tools(document, owner=owner)
    data = {k: v for k, v in document.items() if k not in ("agentry", "custom_tools")}
    agent = agent_create(owner=owner, data=data)
    agent.import_notes = notes
    return agent
