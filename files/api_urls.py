from django.urls import path

from files import api

urlpatterns = [
    path("files/", api.FileListView.as_view(), name="file-list"),
    path("files/upload/", api.FileUploadView.as_view(), name="file-upload"),
    path("files/search/", api.FileSearchView.as_view(), name="file-search"),
    path("files/preview/", api.FilePreviewView.as_view(), name="file-preview"),
    path(
        "files/collections/",
        api.CollectionListView.as_view(),
        name="file-collection-list",
    ),
    path(
        "files/collections/<int:collection_id>/",
        api.CollectionDetailView.as_view(),
        name="file-collection-detail",
    ),
    path("files/<int:file_id>/", api.FileDetailView.as_view(), name="file-detail"),
    path(
        "files/<int:file_id>/download/",
        api.FileDownloadView.as_view(),
        name="file-download",
    ),
    path(
        "files/<int:file_id>/preview/",
        api.FileChunksPreviewView.as_view(),
        name="file-chunks-preview",
    ),
    path(
        "files/<int:file_id>/reingest/",
        api.FileReingestView.as_view(),
        name="file-reingest",
    ),
    path(
        "agents/<int:agent_id>/files/",
        api.AgentFilesView.as_view(),
        name="agent-files",
    ),
    path(
        "agents/<int:agent_id>/files/<int:file_id>/",
        api.AgentFileDetachView.as_view(),
        name="agent-file-detach",
    ),
    path(
        "agents/<int:agent_id>/files/collections/<int:collection_id>/",
        api.AgentFileDetachView.as_view(),
        name="agent-collection-detach",
    ),
]
