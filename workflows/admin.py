from django.contrib import admin

from workflows.models import Handoff, Workflow, WorkflowRun, WorkflowVersion


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
    list_display = ["name", "owner", "visibility", "version_number", "updated_at"]
    list_filter = ["visibility", "updated_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    # The graph is checked by workflows.services; staff look, rename or delete.
    readonly_fields = ["owner", "graph", "version_number", "created_at", "updated_at"]
    inlines = [WorkflowVersionInline]


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
