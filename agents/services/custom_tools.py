"""Users' own function tools, called through a webhook."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import jsonschema
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import CustomTool
from agents.tools import tool_names
from agents.tools.registry import TOOL_NAME_PATTERN
from config import crypto, outbound

MAX_SCHEMA_CHARS = 20000


def _clean_parameters(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(_("The parameters must be a JSON schema object."))
    try:
        jsonschema.validators.validator_for(value).check_schema(value)
    except jsonschema.SchemaError as error:
        raise ValidationError(
            _("The parameters are not a valid JSON schema: %(error)s")
            % {"error": error.message}
        ) from None
    if value.get("type") != "object":
        raise ValidationError(_('The parameters\' top level must be "type": "object".'))
    return value


def _clean_url(value: Any) -> str:
    url = value.strip() if isinstance(value, str) else ""
    try:
        _scheme, host, _port = outbound.check_url(url)
        # An address written in the URL can be judged now; names are resolved
        # (and judged) at every call.
        with contextlib.suppress(ValueError):
            outbound.check_address(host)
    except outbound.OutboundRefusedError as error:
        raise ValidationError(str(error)) from None
    if len(url) > 2000:
        raise ValidationError(_("The URL is too long."))
    return url


def _apply(*, owner, data: dict[str, Any], tool: CustomTool) -> dict[str, list]:
    """Set the checked values of ``data`` on ``tool`` (unsaved); errors by field."""
    creating = tool.pk is None
    errors: dict[str, list] = {}
    required = ("name", "description", "parameters", "webhook_url")
    for field in required:
        if creating and field not in data:
            errors[field] = [_("This field is required.")]

    def attempt(field, function):
        if field in data:
            try:
                setattr(tool, field, function(data[field]))
            except ValidationError as error:
                errors[field] = error.messages

    def clean_name(value):
        name = value.strip() if isinstance(value, str) else ""
        if not TOOL_NAME_PATTERN.match(name):
            raise ValidationError(
                _("Use 1 to 64 letters, digits, '_' or '-' (the model calls it so).")
            )
        if name in tool_names():
            raise ValidationError(
                _("%(name)s is a built-in tool's name.") % {"name": name}
            )
        taken = CustomTool.objects.filter(owner=owner, name=name).exclude(pk=tool.pk)
        if taken.exists():
            raise ValidationError(_("You already have a tool with this name."))
        return name

    def clean_description(value):
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise ValidationError(_("Say what the tool does; the model reads it."))
        return text[:2000]

    attempt("name", clean_name)
    attempt("description", clean_description)
    attempt("parameters", _clean_parameters)
    attempt("webhook_url", _clean_url)
    if "secret_header" in data:
        header = data["secret_header"]
        if header in (None, {}):
            tool.secret_header_name, tool.secret_header_value = "", ""
        elif (
            not isinstance(header, dict)
            or not isinstance(header.get("name"), str)
            or not header["name"].strip()
            or ("value" in header and not isinstance(header["value"], str))
        ):
            errors["secret_header"] = [
                _('Give the header as {"name": "Authorization", "value": "..."}.')
            ]
        else:
            tool.secret_header_name = header["name"].strip()
            if header.get("value"):
                tool.secret_header_value = crypto.encrypt(header["value"])
            elif not tool.secret_header_value:
                errors["secret_header"] = [_("Give the header's value.")]
    return errors


def custom_tool_check(
    *, owner, data: dict[str, Any], tool: CustomTool | None = None
) -> None:
    """Raise the ValidationError custom_tool_save would, changing nothing.

    Forms call it to show every problem at once, before saving.
    """
    probe = copy.copy(tool) if tool is not None else CustomTool(owner=owner)
    errors = _apply(owner=owner, data=data, tool=probe)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def custom_tool_save(
    *, owner, data: dict[str, Any], tool: CustomTool | None = None
) -> CustomTool:
    """Create a tool, or change ``tool`` with the fields given in ``data``."""
    tool = tool or CustomTool(owner=owner)
    errors = _apply(owner=owner, data=data, tool=tool)
    if errors:
        raise ValidationError(errors)
    tool.save()
    return tool


@transaction.atomic
def custom_tool_delete(*, tool: CustomTool) -> None:
    """Delete the tool; runs of agents that still list it fail saying so."""
    tool.delete()
