from django.urls import path

from workflows import views

app_name = "workflows"

urlpatterns = [
    path("workflows/", views.workflow_list, name="list"),
    path("workflows/new/", views.workflow_new, name="new"),
    path("workflows/<int:workflow_id>/", views.workflow_detail, name="detail"),
    path("workflows/<int:workflow_id>/edit/", views.workflow_edit, name="edit"),
    path("workflows/<int:workflow_id>/run/", views.workflow_run, name="run"),
    path("workflows/<int:workflow_id>/fork/", views.workflow_fork, name="fork"),
    path(
        "workflows/runs/<int:run_id>/approval/",
        views.run_approval,
        name="run-approval",
    ),
    path("workflows/runs/<int:run_id>/resume/", views.run_resume, name="run-resume"),
    path(
        "agents/<int:agent_id>/handoffs/",
        views.agent_handoffs,
        name="agent-handoffs",
    ),
]
