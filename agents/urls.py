from django.urls import path

from agents import views, views_community, views_sharing

app_name = "agents"

urlpatterns = [
    path("u/<str:username>/<slug:slug>/", views_community.listing, name="listing"),
    path("agents/<int:agent_id>/fork/", views_community.fork, name="fork"),
    path(
        "agents/<int:agent_id>/fork-changes/",
        views_community.fork_changes,
        name="fork-changes",
    ),
    path("agents/", views.agent_list, name="list"),
    path("agents/new/", views.agent_create, name="create"),
    path("agents/import/", views.agent_import, name="import"),
    path("agents/validate/", views.validate_field, name="validate-field"),
    path("agents/<int:agent_id>/", views.agent_detail, name="detail"),
    path("agents/<int:agent_id>/edit/", views.agent_edit, name="edit"),
    path("agents/<int:agent_id>/delete/", views.agent_delete, name="delete"),
    path("agents/<int:agent_id>/run/", views.run_start, name="run-start"),
    path("agents/<int:agent_id>/versions/diff/", views.version_diff, name="diff"),
    path("settings/provider-keys/", views.provider_keys, name="provider_keys"),
    path(
        "settings/provider-keys/<int:key_id>/test/",
        views.provider_key_test,
        name="provider_key_test",
    ),
    path(
        "settings/provider-keys/<int:key_id>/delete/",
        views.provider_key_delete,
        name="provider_key_delete",
    ),
    path("conversations/", views.conversation_list, name="conversations"),
    path(
        "conversations/<int:conversation_id>/",
        views.conversation_detail,
        name="conversation",
    ),
    path(
        "conversations/<int:conversation_id>/continue/",
        views.conversation_continue,
        name="conversation-continue",
    ),
    path(
        "conversations/<int:conversation_id>/rename/",
        views.conversation_rename,
        name="conversation-rename",
    ),
    path(
        "conversations/<int:conversation_id>/delete/",
        views.conversation_delete,
        name="conversation-delete",
    ),
    path("tools/", views.tool_list, name="tools"),
    path("tools/new/", views.custom_tool_create, name="tool-create"),
    path("tools/<int:tool_id>/edit/", views.custom_tool_edit, name="tool-edit"),
    path("tools/<int:tool_id>/delete/", views.custom_tool_delete, name="tool-delete"),
    path("tools/<str:name>/toggle/", views.tool_toggle, name="tool-toggle"),
    path("playground/", views.playground, name="playground"),
    path("playground/save/", views.playground_save, name="playground-save"),
    path("runs/", views.run_list, name="runs"),
    path("runs/delete/", views.runs_delete, name="runs-delete"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("runs/<int:run_id>/delete/", views.run_delete, name="run-delete"),
    path("runs/<int:run_id>/share/", views_sharing.run_share, name="run-share"),
    # A slug's characters are token_urlsafe's alphabet.
    path("r/<slug:token>/", views_sharing.shared_run, name="shared-run"),
]
