"""Staff switching built-in tools on and off for the whole site."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import ToolSetting
from agents.tools import tool_names


@transaction.atomic
def tool_set_enabled(*, name: str, enabled: bool, user) -> ToolSetting:
    if not user.is_staff:
        raise PermissionDenied(_("Only staff can switch tools for the site."))
    if name not in tool_names():
        raise ValidationError(
            {"name": [_("There is no built-in tool %(name)r.") % {"name": name}]}
        )
    setting, _created = ToolSetting.objects.update_or_create(
        name=name, defaults={"enabled": enabled, "updated_by": user}
    )
    return setting
