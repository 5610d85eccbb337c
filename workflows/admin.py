from django.contrib import admin

from workflows.models import Handoff


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    list_display = ["agent", "target", "input_filter", "position", "created_at"]
    list_filter = ["input_filter", "created_at"]
    search_fields = ["agent__name", "target__name", "agent__owner__username"]
    list_select_related = ["agent", "target"]
    # Owners choose targets they may use (workflows.services); staff look,
    # reword or remove.
    readonly_fields = ["agent", "target", "created_at"]
