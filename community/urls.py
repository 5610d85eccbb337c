from django.urls import path

from community import (
    views,
    views_account,
    views_messages,
    views_moderation,
    views_reviews,
)

app_name = "community"

urlpatterns = [
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/new/", views.api_key_create, name="api_key_create"),
    path(
        "settings/api-keys/<str:prefix>/revoke/",
        views.api_key_revoke,
        name="api_key_revoke",
    ),
    path("settings/profile/", views.profile_settings, name="profile_settings"),
    path("settings/account/", views_account.account_settings, name="account_settings"),
    path(
        "settings/account/export/",
        views_account.account_export_download,
        name="account_export",
    ),
    path(
        "settings/account/delete/",
        views_account.account_delete_submit,
        name="account_delete",
    ),
    path("u/<str:username>/", views.profile, name="profile"),
    # Not under /u/<username>/: what follows that prefix is an agent's slug.
    path("people/<str:username>/follow/", views.follow_toggle, name="follow"),
    path("people/<str:username>/block/", views_messages.block_toggle, name="block"),
    path("feed/", views.feed, name="feed"),
    path(
        "report/<str:target_type>/<int:target_id>/",
        views_moderation.report,
        name="report",
    ),
    path("messages/", views_messages.inbox, name="messages"),
    path(
        "messages/with/<str:username>/",
        views_messages.compose,
        name="message_compose",
    ),
    path(
        "messages/<int:thread_id>/",
        views_messages.thread,
        name="message_thread",
    ),
    path("agents/<int:agent_id>/rate/", views_reviews.rate, name="rate"),
    path("agents/<int:agent_id>/comment/", views_reviews.comment, name="comment"),
    path("agents/<int:agent_id>/react/", views_reviews.react, name="agent-react"),
    path(
        "workflows/<int:workflow_id>/rate/",
        views_reviews.rate,
        name="workflow-rate",
    ),
    path(
        "workflows/<int:workflow_id>/comment/",
        views_reviews.comment,
        name="workflow-comment",
    ),
    path(
        "workflows/<int:workflow_id>/react/",
        views_reviews.react,
        name="workflow-react",
    ),
    path(
        "comments/<int:comment_id>/edit/",
        views_reviews.comment_edit,
        name="comment-edit",
    ),
    path(
        "comments/<int:comment_id>/delete/",
        views_reviews.comment_delete,
        name="comment-delete",
    ),
    path(
        "comments/<int:comment_id>/hide/",
        views_reviews.comment_hide,
        name="comment-hide",
    ),
    path(
        "comments/<int:comment_id>/react/",
        views_reviews.react,
        name="comment-react",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path(
        "notifications/read-all/",
        views.notifications_read_all,
        name="notifications_read_all",
    ),
    path(
        "notifications/<int:notification_id>/",
        views.notification_open,
        name="notification_open",
    ),
]
