"""Admin pieces shared by the apps (this module is not an app's admin.py)."""

from django.contrib import admin


class RecordAdmin(admin.ModelAdmin):
    """Records only services write: staff read them, never add, edit or
    delete here (the ledger is append-only, the audit log too; a key is
    revoked or removed through its service, by an admin action)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
