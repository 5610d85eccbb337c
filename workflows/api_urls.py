from django.urls import path

from workflows import api

urlpatterns = [
    path("workflows/", api.WorkflowListView.as_view(), name="workflow-list"),
    path(
        "workflows/discover/",
        api.WorkflowDiscoverView.as_view(),
        name="workflow-discover",
    ),
    path(
        "workflows/<int:workflow_id>/fork/",
        api.WorkflowForkView.as_view(),
        name="workflow-fork",
    ),
    path(
        "workflows/validate/",
        api.WorkflowValidateView.as_view(),
        name="workflow-validate",
    ),
    path(
        "workflows/<int:workflow_id>/",
        api.WorkflowDetailView.as_view(),
        name="workflow-detail",
    ),
    path(
        "workflows/<int:workflow_id>/run/",
        api.WorkflowRunView.as_view(),
        name="workflow-run",
    ),
    path(
        "runs/<int:run_id>/approval/",
        api.RunApprovalView.as_view(),
        name="run-approval",
    ),
    path("runs/<int:run_id>/resume/", api.RunResumeView.as_view(), name="run-resume"),
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
