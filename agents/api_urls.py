from django.urls import path

from agents import api

urlpatterns = [
    path("agents/", api.AgentListView.as_view(), name="agent-list"),
    path("agents/import/", api.AgentImportView.as_view(), name="agent-import"),
    path("agents/<int:agent_id>/", api.AgentDetailView.as_view(), name="agent-detail"),
    path(
        "agents/<int:agent_id>/export/",
        api.AgentExportView.as_view(),
        name="agent-export",
    ),
    path(
        "agents/<int:agent_id>/export/python/",
        api.AgentExportPythonView.as_view(),
        name="agent-export-python",
    ),
    path(
        "agents/<int:agent_id>/versions/",
        api.AgentVersionListView.as_view(),
        name="agent-versions",
    ),
    path(
        "agents/<int:agent_id>/versions/<int:number>/",
        api.AgentVersionDetailView.as_view(),
        name="agent-version-detail",
    ),
    path("agents/<int:agent_id>/run/", api.AgentRunView.as_view(), name="agent-run"),
    path(
        "agents/<int:agent_id>/clone/", api.AgentCloneView.as_view(), name="agent-clone"
    ),
    path(
        "community/agents/",
        api.CommunityAgentListView.as_view(),
        name="community-agents",
    ),
    path(
        "agents/<int:agent_id>/estimate/",
        api.AgentEstimateView.as_view(),
        name="agent-estimate",
    ),
    path(
        "playground/runs/",
        api.PlaygroundRunView.as_view(),
        name="playground-run",
    ),
    path(
        "playground/save/",
        api.PlaygroundSaveView.as_view(),
        name="playground-save",
    ),
    path("runs/", api.RunListView.as_view(), name="run-list"),
    path("runs/<int:run_id>/", api.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:run_id>/cancel/", api.RunCancelView.as_view(), name="run-cancel"),
    path("runs/<int:run_id>/share/", api.RunShareView.as_view(), name="run-share"),
    path(
        "conversations/",
        api.ConversationListView.as_view(),
        name="conversation-list",
    ),
    path(
        "conversations/<int:conversation_id>/",
        api.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path("models/", api.LanguageModelListView.as_view(), name="model-list"),
    path("models/providers/", api.ProviderListView.as_view(), name="provider-list"),
    path(
        "models/providers/<str:provider_id>/models/",
        api.ProviderModelListView.as_view(),
        name="provider-models",
    ),
    path(
        "models/providers/<str:provider_id>/capabilities/",
        api.ProviderCapabilitiesView.as_view(),
        name="provider-capabilities",
    ),
    path("tools/", api.ToolListView.as_view(), name="tool-list"),
    path(
        "tools/<int:tool_id>/", api.CustomToolDetailView.as_view(), name="tool-detail"
    ),
    path(
        "agents/<int:agent_id>/tools/",
        api.AgentToolsView.as_view(),
        name="agent-tools",
    ),
    path(
        "users/api-keys/", api.ProviderKeyListView.as_view(), name="provider-key-list"
    ),
    path(
        "users/api-keys/<int:key_id>/",
        api.ProviderKeyDetailView.as_view(),
        name="provider-key-detail",
    ),
    path(
        "users/api-keys/<int:key_id>/test/",
        api.ProviderKeyTestView.as_view(),
        name="provider-key-test",
    ),
]
