from django.urls import path

from workflows import api

urlpatterns = [
    path("workflows/", api.WorkflowListView.as_view(), name="workflow-list"),
    path(
        "workflows/<int:workflow_id>/",
        api.WorkflowDetailView.as_view(),
        name="workflow-detail",
    ),
    path(
        "agents/<int:agent_id>/handoffs/",
        api.HandoffListView.as_view(),
        name="agent-handoffs",
    ),
    path(
        "agents/<int:agent_id>/handoffs/<int:handoff_id>/",
        api.HandoffDetailView.as_view(),
        name="agent-handoff-detail",
    ),
]
