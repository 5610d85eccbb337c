from django.urls import path

from workflows import api

urlpatterns = [
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
