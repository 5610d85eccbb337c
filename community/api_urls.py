from django.urls import path

from community import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("tokens/", api.ApiKeyListCreateView.as_view(), name="token-list"),
    path("tokens/<str:prefix>/", api.ApiKeyDetailView.as_view(), name="token-detail"),
]
