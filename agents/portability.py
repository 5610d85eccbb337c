"""Carrying agents in and out as one YAML file.

The file holds an agent's definition (the fields a version freezes), its tags,
and a format number. A guard agent is written as ``owner/slug``, since ids mean
nothing on another site; importing resolves it among the agents the importer
may run. A webhook tool is listed as ``custom:<name>`` and described under
``custom_tools`` (never with its secret header's value); importing attaches the
importer's own tool of that name or creates one for them.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from agents.definitions import AGENT_TOOL_PREFIX, CUSTOM_PREFIX, DEFINITION_FIELDS
from config.jsoninput import MAX_DEPTH

FORMAT = 1
# The largest file accepted, in characters: far above any real definition.
MAX_CHARS = 200_000
DOCUMENT_FIELDS = ("agentry", *DEFINITION_FIELDS, "tags", "custom_tools")
# How the file's tools list names a webhook tool: ids mean nothing elsewhere.
FILE_CUSTOM_PREFIX = "custom:"
# ...and an agent run as a tool, as ``agent:<owner>/<slug>``.
FILE_AGENT_PREFIX = "agent:"
CUSTOM_TOOL_FIELDS = (
    "name",
    "description",
    "parameters",
    "webhook_url",
    "secret_header_name",
)


def _custom_tool_entry(tool, *, with_url: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
    }
    if with_url:
        entry["webhook_url"] = tool.webhook_url
    if tool.secret_header_name:
        # The header's name tells the importer what to set; its value stays here.
        entry["secret_header_name"] = tool.secret_header_name
    return entry


def _export_tools(agent, *, user) -> tuple[list[str], dict[str, str], list[dict]]:
    """The tools list with webhook tools by name, the renaming, and their entries.

    Only the owner's own export carries webhook URLs: a URL may hold a token
    (as many webhook services put one there), and others who may see a shared
    agent were never shown it.
    """
    from agents.models import CustomTool

    references = [name for name in agent.tools or [] if name.startswith(CUSTOM_PREFIX)]
    tools_by_reference = {
        tool.reference: tool
        for tool in CustomTool.objects.filter(
            owner_id=agent.owner_id,
            pk__in=[
                int(reference[len(CUSTOM_PREFIX) :])
                for reference in references
                if reference[len(CUSTOM_PREFIX) :].isdigit()
            ],
        )
    }
    with_url = user is not None and user.pk == agent.owner_id
    agent_tools = _agent_tools_by_reference(agent.tools or [])
    tools, renamed, entries = [], {}, []
    for name in agent.tools or []:
        if name.startswith(AGENT_TOOL_PREFIX):
            other = agent_tools.get(name)
            if other is not None:
                owner_slug = f"{other.owner.username}/{other.slug}"
                renamed[name] = f"{FILE_AGENT_PREFIX}{owner_slug}"
                tools.append(renamed[name])
            continue
        if not name.startswith(CUSTOM_PREFIX):
            tools.append(name)
            continue
        tool = tools_by_reference.get(name)
        if tool is None:
            # Deleted since: the agent's runs fail on it, and no importer could
            # have it.
            continue
        renamed[name] = f"{FILE_CUSTOM_PREFIX}{tool.name}"
        tools.append(renamed[name])
        entries.append(_custom_tool_entry(tool, with_url=with_url))
    return tools, renamed, entries


def _agent_tools_by_reference(names: list[str]) -> dict[str, Any]:
    from agents.models import Agent

    ids = [
        int(name.removeprefix(AGENT_TOOL_PREFIX))
        for name in names
        if name.startswith(AGENT_TOOL_PREFIX)
        and name.removeprefix(AGENT_TOOL_PREFIX).isdigit()
    ]
    return {
        other.tool_reference: other
        for other in Agent.objects.select_related("owner").filter(pk__in=ids)
    }


def resolve_agent_tools(document: dict[str, Any], *, user) -> dict[str, Any]:
    """Turn ``agent:owner/slug`` tools into ``agent/<id>`` of agents ``user``
    may run as tools (their own, or shared ones)."""
    from agents.selectors import agent_tool_candidates

    tools = document.get("tools")
    if not isinstance(tools, list):
        return document
    resolved, renamed = [], {}
    for name in tools:
        if isinstance(name, str) and name.startswith(FILE_AGENT_PREFIX):
            username, _slash, slug = name[len(FILE_AGENT_PREFIX) :].partition("/")
            other = (
                agent_tool_candidates(owner_id=user.pk)
                .filter(owner__username__iexact=username, slug=slug)
                .first()
            )
            if other is None:
                raise ValidationError(
                    {
                        "tools": [
                            _(
                                "The agent %(ref)s is not one you can use as a tool "
                                "here. Import or share it first, or remove it."
                            )
                            % {"ref": name[len(FILE_AGENT_PREFIX) :]}
                        ]
                    }
                )
            renamed[name] = other.tool_reference
            name = other.tool_reference
        resolved.append(name)
    document = {**document, "tools": resolved}
    settings = document.get("model_settings")
    if isinstance(settings, dict) and settings.get("tool_choice") in renamed:
        settings = {**settings, "tool_choice": renamed[settings["tool_choice"]]}
        document["model_settings"] = settings
    return document


def agent_document(agent, *, user=None) -> dict[str, Any]:
    """The exported form of ``agent`` for ``user``, ready for ``dump``.

    Webhook URLs are written only when ``user`` owns the agent.
    """
    from agents.models import Agent
    from billing.pricing import as_credits

    document: dict[str, Any] = {"agentry": FORMAT}
    for field in DEFINITION_FIELDS:
        document[field] = getattr(agent, field)
    if agent.max_credits_per_run is not None:
        # In credits, as people write them; importing turns them back.
        document["max_credits_per_run"] = as_credits(agent.max_credits_per_run)
    document["tags"] = list(agent.tags)
    tools, renamed, custom_tools = _export_tools(agent, user=user)
    document["tools"] = tools
    model_settings = dict(agent.model_settings or {})
    choice = model_settings.get("tool_choice")
    by_reference = (CUSTOM_PREFIX, AGENT_TOOL_PREFIX)
    if isinstance(choice, str) and choice.startswith(by_reference):
        if choice in renamed:
            model_settings["tool_choice"] = renamed[choice]
        else:
            model_settings.pop("tool_choice")
    document["model_settings"] = model_settings
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
    if custom_tools:
        document["custom_tools"] = custom_tools
    return document


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        # A value the document holds twice is written twice, never as an
        # anchor and alias, which load() refuses.
        return True


def dump(document: dict[str, Any]) -> str:
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )


class _RefusedError(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing what an agent file never holds and
    what would make loading or the checks after it fail or run away: nesting
    deeper than JSON bodies may nest (config.jsoninput; the composer recurses
    a few frames a level, so ``- - - - …`` on one line ends in RecursionError),
    and aliases (``&a [*a]`` is a list holding itself; a few lines of aliases
    of aliases make a billion elements)."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _RefusedError(_("The file may not use YAML aliases (*name)."))
        self.depth += 1
        try:
            # Scalars pass through here too: one more than collections.
            if self.depth > MAX_DEPTH + 1:
                raise _RefusedError(
                    _("The file is nested too deeply: at most %(n)d levels.")
                    % {"n": MAX_DEPTH}
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load(text: Any) -> dict[str, Any]:
    """Parse an exported file; ValidationError (under ``file``) if it is not one."""

    def refuse(message: str):
        raise ValidationError({"file": [message]})

    if not isinstance(text, str) or not text.strip():
        refuse(_("Send the agent's YAML file."))
    if len(text) > MAX_CHARS:
        refuse(_("The file is larger than %(n)d characters.") % {"n": MAX_CHARS})
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except _RefusedError as error:
        refuse(str(error))
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
    if "custom_tools" in document:
        _check_custom_tools(document["custom_tools"])
    return document


def _check_custom_tools(entries: Any) -> None:
    """The shape of the ``custom_tools`` section; custom_tool_save judges values."""

    def refuse(message: str):
        raise ValidationError({"custom_tools": [message]})

    if entries is None:
        return
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) for entry in entries
    ):
        refuse(_("custom_tools must be a list of tools, each a mapping of fields."))
    seen = set()
    for entry in entries:
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            refuse(_("Each of custom_tools needs a name."))
        unknown = sorted(str(key) for key in entry if key not in CUSTOM_TOOL_FIELDS)
        if unknown:
            refuse(
                _(
                    "Unknown fields in the custom tool %(tool)s: %(names)s. A "
                    "custom tool may hold: %(known)s."
                )
                % {
                    "tool": name,
                    "names": ", ".join(unknown),
                    "known": ", ".join(CUSTOM_TOOL_FIELDS),
                }
            )
        if name in seen:
            refuse(_("The custom tool %(tool)s is listed twice.") % {"tool": name})
        seen.add(name)


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
