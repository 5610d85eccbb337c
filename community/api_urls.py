from django.urls import path, register_converter

from community import api, api_account, api_messages, api_moderation, api_reviews


class PublicUsernameConverter:
    """A username in /api/v1/users/<username>/..., except the names other
    apps' routes use there (agents' /api/v1/users/api-keys/)."""

    regex = r"(?!api-keys/)[^/]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PublicUsernameConverter, "public_username")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path(
        "account/export/",
        api_account.AccountExportView.as_view(),
        name="account-export",
    ),
    path(
        "account/delete/",
        api_account.AccountDeleteView.as_view(),
        name="account-delete",
    ),
    path("tokens/", api.ApiKeyListCreateView.as_view(), name="token-list"),
    path("tokens/<str:prefix>/", api.ApiKeyDetailView.as_view(), name="token-detail"),
    # Before users/<username>/...: "me" here is the signed-in user.
    path("users/me/profile/", api.MyProfileView.as_view(), name="my-profile"),
    path(
        "users/me/blocked/", api_messages.BlockedListView.as_view(), name="my-blocked"
    ),
    path(
        "users/<public_username:username>/block/",
        api_messages.BlockView.as_view(),
        name="user-block",
    ),
    # Direct messages. Not /conversations/: that is the agents' chat.
    path(
        "messages/threads/",
        api_messages.ThreadListView.as_view(),
        name="message-thread-list",
    ),
    path(
        "messages/threads/<int:thread_id>/",
        api_messages.ThreadDetailView.as_view(),
        name="message-thread-detail",
    ),
    path(
        "messages/threads/<int:thread_id>/messages/",
        api_messages.ThreadMessagesView.as_view(),
        name="message-thread-reply",
    ),
    path("messages/unread/", api_messages.UnreadView.as_view(), name="message-unread"),
    path(
        "users/<public_username:username>/",
        api.UserDetailView.as_view(),
        name="user-detail",
    ),
    path(
        "users/<public_username:username>/follow/",
        api.FollowView.as_view(),
        name="user-follow",
    ),
    path(
        "users/<public_username:username>/followers/",
        api.FollowerListView.as_view(),
        name="user-followers",
    ),
    path(
        "users/<public_username:username>/following/",
        api.FollowingListView.as_view(),
        name="user-following",
    ),
    path("feed/", api.FeedView.as_view(), name="feed"),
    path(
        "agents/<int:agent_id>/ratings/",
        api_reviews.AgentRatingsView.as_view(),
        name="agent-ratings",
    ),
    path(
        "agents/<int:agent_id>/comments/",
        api_reviews.AgentCommentsView.as_view(),
        name="agent-comments",
    ),
    path(
        "agents/<int:agent_id>/reactions/",
        api_reviews.AgentReactionsView.as_view(),
        name="agent-reactions",
    ),
    path(
        "workflows/<int:workflow_id>/ratings/",
        api_reviews.WorkflowRatingsView.as_view(),
        name="workflow-ratings",
    ),
    path(
        "workflows/<int:workflow_id>/comments/",
        api_reviews.WorkflowCommentsView.as_view(),
        name="workflow-comments",
    ),
    path(
        "workflows/<int:workflow_id>/reactions/",
        api_reviews.WorkflowReactionsView.as_view(),
        name="workflow-reactions",
    ),
    path(
        "comments/<int:comment_id>/",
        api_reviews.CommentDetailView.as_view(),
        name="comment-detail",
    ),
    path(
        "comments/<int:comment_id>/hide/",
        api_reviews.CommentHideView.as_view(),
        name="comment-hide",
    ),
    path(
        "comments/<int:comment_id>/reactions/",
        api_reviews.CommentReactionsView.as_view(),
        name="comment-reactions",
    ),
    path("reports/", api_moderation.ReportListCreateView.as_view(), name="report-list"),
    path(
        "notifications/", api.NotificationListView.as_view(), name="notification-list"
    ),
    path(
        "notifications/read-all/",
        api.NotificationReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        api.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
