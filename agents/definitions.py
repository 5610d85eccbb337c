"""Checking and normalising an agent's definition: the fields a version freezes.

Plain functions that raise ``ValidationError`` with one message per field, so
the builder page and the API report the same errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from config import jsoninput

# The fields of an agent that a version freezes; tags and visibility are about
# how the agent is shown, not how it behaves, so changing them makes no version.
DEFINITION_FIELDS = (
    "name",
    "description",
    "instructions",
    "model",
    "fallback_model",
    "max_credits_per_run",
    "model_settings",
    "tools",
    "tool_options",
    "guardrails",
    "output_type",
)

TOOL_CHOICES = ("auto", "required", "none")
MAX_SCHEMA_CHARS = 20000
MAX_GUARDRAIL_ITEMS = 50
MAX_PATTERN_CHARS = 200
MAX_TAGS = 10
MAX_CREDITS_PER_RUN = 1_000_000  # credits: far above any real run


def clean_name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise ValidationError(_("Give the agent a name."))
    if len(name) > 100:
        raise ValidationError(_("Keep the name to 100 characters or fewer."))
    return name


def clean_max_credits_per_run(value: Any) -> int | None:
    """The most a run may spend, given in credits ("5", 2.5), as milli-credits;
    empty for no limit of the agent's own."""
    from billing.models import MILLI
    from billing.services import to_millicredits

    if value in (None, ""):
        return None
    milli = to_millicredits(value)
    if milli <= 0:
        raise ValidationError(_("Give an amount above zero, or leave it empty."))
    if milli > MAX_CREDITS_PER_RUN * MILLI:
        raise ValidationError(
            _("Give at most %(most)s credits.") % {"most": f"{MAX_CREDITS_PER_RUN:,}"}
        )
    return milli


def clean_model_settings(value: Any, *, tools: list[str]) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Model settings must be an object."))
    known = {"temperature", "top_p", "max_output_tokens", "tool_choice"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValidationError(
            _("Unknown model settings: %(names)s. Use %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(sorted(known))}
        )
    cleaned: dict = {}
    for key, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        number = value.get(key)
        if number in (None, ""):
            continue
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValidationError(_("%(key)s must be a number.") % {"key": key})
        if not low <= number <= high:
            raise ValidationError(
                _("%(key)s must be between %(low)s and %(high)s.")
                % {"key": key, "low": low, "high": high}
            )
        cleaned[key] = float(number)
    tokens = value.get("max_output_tokens")
    if tokens not in (None, ""):
        if isinstance(tokens, bool) or not isinstance(tokens, int):
            raise ValidationError(_("max_output_tokens must be a whole number."))
        if not 1 <= tokens <= 128000:
            raise ValidationError(_("max_output_tokens must be between 1 and 128000."))
        cleaned["max_output_tokens"] = tokens
    choice = value.get("tool_choice")
    if choice not in (None, ""):
        if choice not in TOOL_CHOICES and choice not in tools:
            raise ValidationError(
                _(
                    "tool_choice must be auto, required, none or the name of one of "
                    "the agent's tools."
                )
            )
        cleaned["tool_choice"] = choice
    return cleaned


CUSTOM_PREFIX = "custom/"
AGENT_TOOL_PREFIX = "agent/"


def clean_tools(
    value: Any,
    *,
    custom_allowed: Callable[[int], bool] = lambda tool_id: False,
    agent_allowed: Callable[[int], bool] = lambda agent_id: False,
) -> list[str]:
    """Built-in tool names, ``custom/<id>`` for the owner's own tools and
    ``agent/<id>`` for agents run as tools."""
    from agents.tools import tool_names

    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Tools must be a list of tool names."))
    known = tool_names()

    def is_known(name: str) -> bool:
        if name.startswith(CUSTOM_PREFIX):
            tool_id = name[len(CUSTOM_PREFIX) :]
            return tool_id.isdigit() and custom_allowed(int(tool_id))
        if name.startswith(AGENT_TOOL_PREFIX):
            agent_id = name[len(AGENT_TOOL_PREFIX) :]
            return agent_id.isdigit() and agent_allowed(int(agent_id))
        return name in known

    unknown = [name for name in value if not is_known(name)]
    if unknown:
        raise ValidationError(
            _("Unknown tool: %(names)s. Available: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(sorted(known))}
        )
    # Keep the order given, drop repeats.
    return list(dict.fromkeys(value))


HOST_PATTERN = re.compile(
    r"^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
MAX_ALLOWED_HOSTS = 50


def clean_tool_options(value: Any, *, tools: list[str]) -> dict:
    """Settings per tool; today only http_request's ``allowed_hosts``."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Tool options must be an object keyed by tool name."))
    known = {"http_request": {"allowed_hosts"}}
    cleaned: dict = {}
    for tool, options in value.items():
        if tool not in known:
            raise ValidationError(
                _("The tool %(tool)r has no options.") % {"tool": tool}
            )
        if not isinstance(options, dict) or set(options) - known[tool]:
            raise ValidationError(
                _("%(tool)s takes only: %(keys)s.")
                % {"tool": tool, "keys": ", ".join(sorted(known[tool]))}
            )
        hosts = options.get("allowed_hosts") or []
        if isinstance(hosts, str):
            hosts = hosts.split()
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise ValidationError(_("allowed_hosts must be a list of host names."))
        hosts = list(
            dict.fromkeys(h.strip().lower().rstrip(".") for h in hosts if h.strip())
        )
        if len(hosts) > MAX_ALLOWED_HOSTS:
            raise ValidationError(
                _("At most %(n)d allowed hosts.") % {"n": MAX_ALLOWED_HOSTS}
            )
        for host in hosts:
            if len(host) > 253 or not HOST_PATTERN.match(host):
                raise ValidationError(
                    _(
                        "%(host)r is not a host name. Write e.g. api.example.com, "
                        "or .example.com for it and its subdomains."
                    )
                    % {"host": host}
                )
        if hosts:
            cleaned[tool] = {"allowed_hosts": hosts}
    return cleaned


def clean_output_type(value: Any) -> dict | None:
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        try:
            value = jsoninput.loads(value)
        except ValueError as error:  # not JSON, or nested too deeply
            raise ValidationError(
                _("The output type is not valid JSON: %(error)s") % {"error": error}
            ) from None
    if not isinstance(value, dict):
        raise ValidationError(_("The output type must be a JSON schema object."))
    if len(json.dumps(value)) > MAX_SCHEMA_CHARS:
        raise ValidationError(
            _("The output type is too large (over %(n)d characters).")
            % {"n": MAX_SCHEMA_CHARS}
        )
    try:
        jsonschema.validators.validator_for(value).check_schema(value)
    except jsonschema.SchemaError as error:
        raise ValidationError(
            _("The output type is not a valid JSON schema: %(error)s at %(path)s")
            % {"error": error.message, "path": _json_path(error.path)}
        ) from None
    # Structured output needs an object at the top, as OpenAI's API does.
    if value.get("type") != "object":
        raise ValidationError(
            _('The output type\'s top level must be "type": "object".')
        )
    return value


def _json_path(path) -> str:
    return "/" + "/".join(str(part) for part in path) if path else "/"


def _clean_word_list(value: Any, label: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = list(value.splitlines())
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("%(label)s must be a list of text.") % {"label": label})
    cleaned = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(cleaned) > MAX_GUARDRAIL_ITEMS:
        raise ValidationError(
            _("%(label)s: at most %(n)d entries.")
            % {"label": label, "n": MAX_GUARDRAIL_ITEMS}
        )
    return cleaned


def _clean_stage(
    value: Any, stage: str, *, guard_agent_allowed: Callable[[int], bool]
) -> dict:
    if value in (None, ""):
        value = {}
    if not isinstance(value, dict):
        raise ValidationError(
            _("%(stage)s guardrails must be an object.") % {"stage": stage}
        )
    known = {"blocked_words", "blocked_patterns", "guard_agent"}
    if stage == "input":
        known.add("max_length")
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValidationError(
            _("Unknown %(stage)s guardrail settings: %(names)s.")
            % {"stage": stage, "names": ", ".join(unknown)}
        )
    cleaned: dict = {}
    words = _clean_word_list(value.get("blocked_words"), _("Blocked words"))
    if words:
        cleaned["blocked_words"] = words
    patterns = _clean_word_list(value.get("blocked_patterns"), _("Blocked patterns"))
    for pattern in patterns:
        if len(pattern) > MAX_PATTERN_CHARS:
            raise ValidationError(
                _("The pattern %(pattern)r is longer than %(n)d characters.")
                % {"pattern": pattern[:40], "n": MAX_PATTERN_CHARS}
            )
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValidationError(
                _("The pattern %(pattern)r is not a valid regular expression: %(err)s")
                % {"pattern": pattern, "err": error}
            ) from None
    if patterns:
        cleaned["blocked_patterns"] = patterns
    max_length = value.get("max_length")
    if max_length not in (None, ""):
        if isinstance(max_length, bool) or not isinstance(max_length, int):
            raise ValidationError(_("The maximum input length must be a whole number."))
        if max_length < 1:
            raise ValidationError(_("The maximum input length must be at least 1."))
        cleaned["max_length"] = max_length
    guard = value.get("guard_agent")
    if guard not in (None, ""):
        if isinstance(guard, bool) or not isinstance(guard, int):
            raise ValidationError(_("The guard agent must be given by its id."))
        if not guard_agent_allowed(guard):
            raise ValidationError(
                _("The guard agent must be another agent you can run.")
            )
        cleaned["guard_agent"] = guard
    return cleaned


def clean_guardrails(value: Any, *, guard_agent_allowed: Callable[[int], bool]) -> dict:
    """{"input": {...}, "output": {...}}, with empty stages dropped."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Guardrails must be an object with input and output."))
    unknown = sorted(set(value) - {"input", "output"})
    if unknown:
        raise ValidationError(
            _("Unknown guardrail stage: %(names)s. Use input and output.")
            % {"names": ", ".join(unknown)}
        )
    cleaned = {}
    for stage in ("input", "output"):
        stage_value = _clean_stage(
            value.get(stage), stage, guard_agent_allowed=guard_agent_allowed
        )
        if stage_value:
            cleaned[stage] = stage_value
    return cleaned


def clean_tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Tags must be a list of words."))
    tags = list(dict.fromkeys(v.strip().lower() for v in value if v.strip()))
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("At most %(n)d tags.") % {"n": MAX_TAGS})
    for tag in tags:
        if len(tag) > 40:
            raise ValidationError(_("Each tag must be 40 characters or fewer."))
    return tags


MAX_LONG_DESCRIPTION = 10000
MAX_EXAMPLE_PROMPTS = 5
MAX_EXAMPLE_PROMPT_LENGTH = 300


def clean_long_description(value: Any) -> str:
    """Markdown shown on the agent's public page (rendered sanitized)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("This must be text."))
    value = value.strip()
    if len(value) > MAX_LONG_DESCRIPTION:
        raise ValidationError(
            _("At most %(n)d characters.") % {"n": MAX_LONG_DESCRIPTION}
        )
    return value


def clean_example_prompts(value: Any) -> list[str]:
    """Up to five prompts a visitor can run with one click."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Example prompts must be a list of texts."))
    prompts = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(prompts) > MAX_EXAMPLE_PROMPTS:
        raise ValidationError(
            _("At most %(n)d example prompts.") % {"n": MAX_EXAMPLE_PROMPTS}
        )
    if any(len(p) > MAX_EXAMPLE_PROMPT_LENGTH for p in prompts):
        raise ValidationError(
            _("Each example prompt must be %(n)d characters or fewer.")
            % {"n": MAX_EXAMPLE_PROMPT_LENGTH}
        )
    return prompts


def definition_of(agent) -> dict:
    """The snapshot a version stores."""
    return {field: getattr(agent, field) for field in DEFINITION_FIELDS}
