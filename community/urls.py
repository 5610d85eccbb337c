from django.urls import path

from community import views

app_name = "community"

urlpatterns = [
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/new/", views.api_key_create, name="api_key_create"),
    path(
        "settings/api-keys/<str:prefix>/revoke/",
        views.api_key_revoke,
        name="api_key_revoke",
    ),
    path("u/<str:username>/", views.profile, name="profile"),
]
