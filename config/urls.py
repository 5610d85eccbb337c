from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from agents import dashboard
from agents import views_community as agents_community_views
from community import views as community_views
from community.avatars import AVATAR_DIRECTORY
from config import metrics, views

# Staff sign in on the site's sign-in page, under allauth's limits per address
# and per account and into the audit log like anyone; the admin's own form
# would be a second way in with neither. Signed-in people who are not staff
# get 403 from it.
admin.site.login = secure_admin_login(admin.site.login)

api_v1 = [
    path("", include("community.api_urls")),
    path("", include("agents.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("files.api_urls")),
    path("", include("workflows.api_urls")),
]

urlpatterns = [
    # First: a request is matched against the patterns in order, and the pages'
    # 150 or so come before the API's otherwise (about 0.3 ms a request). No
    # page's path starts with api/v1/.
    path("api/v1/", include(api_v1)),
    path("", community_views.home, name="home"),
    path("health", views.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
    path("discover/", agents_community_views.discover, name="discover"),
    path("", include("agents.urls")),
    path("", include("workflows.urls")),
    path("", include("files.urls")),
    path("", include("billing.urls")),
    path("", include("community.urls")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    # Before the admin's own URLs, and behind its sign-in: staff only.
    path(
        "admin/dashboard/",
        admin.site.admin_view(dashboard.dashboard),
        name="admin-dashboard",
    ),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # The split view serves Swagger UI's start-up script from this same URL
        # (?script) rather than inline, and the template drops the inline
        # style: the site's Content-Security-Policy holds here unchanged.
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
]

# Nothing under MEDIA_ROOT is served by its path, in any mode: uploads are
# private and leave only through files:download, to their owner. Avatars are
# public: their one folder has its own view.
urlpatterns.append(
    path(
        f"{settings.MEDIA_URL.lstrip('/')}{AVATAR_DIRECTORY}/<str:name>",
        community_views.avatar,
        name="avatar",
    )
)

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
# Not Django's: allauth's rate limits answer with it (allauth.core.ratelimit).
handler429 = "config.views.too_many_requests"
