from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from files import services
from files.models import Attachment, Collection, File


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "kind", "status", "chunk_count", "created_at"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["name", "owner__username", "sha256"]
    list_select_related = ["owner"]
    # Ingestion owns these; staff look, or delete.
    readonly_fields = [
        "owner",
        "collection",
        "name",
        "kind",
        "size",
        "sha256",
        "stored_as",
        "status",
        "progress",
        "error",
        "page_count",
        "chunk_count",
        "chunk_size",
        "chunk_overlap",
        "embedding_model",
        "created_at",
        "ingested_at",
    ]
    fields = readonly_fields

    @admin.display(description=_("stored as"))
    def stored_as(self, obj):
        # The name only: a file field would link to its bytes, which are their
        # owner's alone (files.selectors.file_list_downloadable).
        return obj.blob.name

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        # Through the service: the stored bytes go too.
        services.file_delete(file=obj)

    def delete_queryset(self, request, queryset):
        for file in queryset:
            services.file_delete(file=file)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["agent", "file", "collection", "created_at"]
    list_select_related = ["agent", "file", "collection"]
    raw_id_fields = ["agent", "file", "collection"]
