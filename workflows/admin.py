from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.models import Handoff
from workflows.models import Workflow, WorkflowRun, WorkflowVersion


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    list_display = ["agent", "target", "input_filter", "position", "created_at"]
    list_filter = ["input_filter", "created_at"]
    search_fields = ["agent__name", "target__name", "agent__owner__username"]
    list_select_related = ["agent", "target"]
    # Owners choose targets they may use (workflows.services); staff look,
    # reword or remove.
    readonly_fields = ["agent", "target", "created_at"]


class WorkflowVersionInline(admin.TabularInline):
    model = WorkflowVersion
    extra = 0
    can_delete = False
    fields = ["number", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "visibility",
        "is_hidden",
        "version_number",
        "run_count",
        "rating_count",
        "updated_at",
    ]
    list_filter = ["visibility", "is_hidden", "updated_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    # The graph is checked by workflows.services; staff look, rename, hide
    # (moderation: off every shared list and page) or delete.
    readonly_fields = [
        "owner",
        "graph",
        "version_number",
        "forked_from",
        "run_count",
        "fork_count",
        "rating_count",
        "rating_sum",
        "is_hidden",
        "created_at",
        "updated_at",
    ]
    inlines = [WorkflowVersionInline]
    actions = ["hide_workflows", "show_workflows"]

    @admin.action(description=_("Hide from the community (moderation)"))
    def hide_workflows(self, request, queryset):
        count = self._set_hidden(request, queryset, hidden=True)
        self.message_user(request, _("Hid %(n)d workflows.") % {"n": count})

    @admin.action(description=_("Show in the community again"))
    def show_workflows(self, request, queryset):
        count = self._set_hidden(request, queryset, hidden=False)
        self.message_user(request, _("Showed %(n)d workflows.") % {"n": count})

    def _set_hidden(self, request, queryset, *, hidden: bool) -> int:
        # Through the moderation service, so each is in the audit log.
        from community.moderation import workflow_set_hidden

        workflows = list(queryset)
        for workflow in workflows:
            workflow_set_hidden(workflow=workflow, hidden=hidden, staff=request.user)
        return len(workflows)


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin):
    """A workflow's runs: staff see where each is and why it paused; the run
    itself (steps, status, cancel) is under Runs."""

    list_display = ["run", "workflow", "version", "paused_reason"]
    list_filter = ["paused_reason"]
    search_fields = ["workflow__name", "run__owner__username"]
    list_select_related = ["run", "workflow", "version"]
    readonly_fields = ["run", "workflow", "version", "state", "paused_reason", "budget"]

    def has_add_permission(self, request) -> bool:
        return False
