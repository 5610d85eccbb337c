from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.models import (
    Agent,
    AgentVersion,
    LanguageModel,
    ProviderKey,
    Run,
    RunStep,
    ToolSetting,
)
from agents.services.provider_keys import provider_key_delete
from config.admin import RecordAdmin


@admin.register(LanguageModel)
class LanguageModelAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "provider",
        "name",
        "supports_tools",
        "supports_structured_output",
        "supports_streaming",
        "input_price_per_1k",
        "output_price_per_1k",
        "is_active",
        "position",
    ]
    list_editable = ["is_active", "position"]
    list_filter = ["provider", "is_active"]
    search_fields = ["name", "display_name"]


class AgentVersionInline(admin.TabularInline):
    model = AgentVersion
    fields = ["number", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "model",
        "visibility",
        "is_hidden",
        "version_number",
        "updated_at",
    ]
    list_filter = ["visibility", "is_hidden", "model"]
    search_fields = ["name", "slug", "owner__username", "description"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    # Hidden or shown only through the actions (community.moderation).
    readonly_fields = ["is_hidden", "version_number", "created_at", "updated_at"]
    inlines = [AgentVersionInline]
    actions = ["hide_agents", "show_agents"]

    @admin.action(description=_("Hide from the community (moderation)"))
    def hide_agents(self, request, queryset):
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description=_("Show in the community again"))
    def show_agents(self, request, queryset):
        self._set_hidden(request, queryset, hidden=False)

    def _set_hidden(self, request, queryset, *, hidden: bool):
        from community.moderation import agent_set_hidden

        for agent in queryset:
            agent_set_hidden(agent=agent, hidden=hidden, staff=request.user)
        self.message_user(
            request,
            (_("Hid %(n)d agents.") if hidden else _("Showed %(n)d agents."))
            % {"n": queryset.count()},
        )


@admin.register(AgentVersion)
class AgentVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: staff can read them, not change them."""

    list_display = ["agent", "number", "created_by", "created_at"]
    list_select_related = ["agent", "created_by"]
    search_fields = ["agent__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RunStepInline(admin.TabularInline):
    model = RunStep
    fields = ["order", "type", "payload", "input_tokens", "output_tokens", "latency_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "agent", "owner", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["agent__name", "owner__username"]
    list_select_related = ["agent", "owner"]
    readonly_fields = [
        "agent",
        "version",
        "owner",
        "status",
        "input",
        "final_output",
        "error",
        "usage",
        "worker",
        "created_at",
        "started_at",
        "finished_at",
    ]
    inlines = [RunStepInline]

    def has_add_permission(self, request):
        return False


@admin.register(ProviderKey)
class ProviderKeyAdmin(RecordAdmin):
    """Staff see that a key exists and how its test went, never the key."""

    list_display = ["owner", "provider", "masked", "created_at", "test_ok"]
    list_filter = ["provider", "test_ok"]
    search_fields = ["owner__username"]
    list_select_related = ["owner"]
    fields = [
        "owner",
        "provider",
        "masked",
        "created_at",
        "tested_at",
        "test_ok",
        "test_message",
    ]
    readonly_fields = fields
    # Removal goes through the service (the action below), so the audit log
    # records which staff member removed whose key.
    actions = ["remove"]

    @admin.action(description=_("Remove the selected keys"), permissions=["view"])
    def remove(self, request, queryset):
        removed = 0
        for provider_key in queryset.select_related("owner"):
            provider_key_delete(provider_key=provider_key, staff=request.user)
            removed += 1
        self.message_user(request, _("%(n)d keys removed.") % {"n": removed})


@admin.register(ToolSetting)
class ToolSettingAdmin(admin.ModelAdmin):
    """Built-in tools switched on or off for the whole site."""

    list_display = ["name", "enabled", "updated_by", "updated_at"]
    list_editable = ["enabled"]
    readonly_fields = ["updated_by", "updated_at"]
