from django.urls import path

from files import views

app_name = "files"

urlpatterns = [
    path("files/", views.files_page, name="list"),
    path("files/upload/", views.upload, name="upload"),
    path("files/search/", views.file_search, name="search"),
    path("files/<int:file_id>/", views.file_detail, name="detail"),
    path("files/<int:file_id>/download/", views.file_download, name="download"),
    path("files/<int:file_id>/reingest/", views.file_reingest, name="reingest"),
    path("files/<int:file_id>/delete/", views.file_delete, name="delete"),
    path("files/<int:file_id>/preview/", views.file_preview, name="preview"),
    path("files/<int:file_id>/collection/", views.file_move, name="move"),
    path("files/collections/", views.collection_create, name="collection-create"),
    path(
        "files/collections/<int:collection_id>/delete/",
        views.collection_delete,
        name="collection-delete",
    ),
    path("agents/<int:agent_id>/files/", views.agent_files, name="agent-files"),
]
