from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from community.models import PersonalApiKey, User

# djangorestframework-api-key registers its own, unused, APIKey model; Agentry's
# keys are PersonalApiKey (below). Hiding it keeps staff from minting keys that
# belong to nobody.
admin.site.unregister(APIKey)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
        "active_api_keys",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "date_joined", "last_login"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering = ["-date_joined"]
    date_hierarchy = "date_joined"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _active_api_keys=Count("api_keys", filter=Q(api_keys__revoked=False))
            )
        )

    @admin.display(description=_("active API keys"), ordering="_active_api_keys")
    def active_api_keys(self, user):
        return user._active_api_keys


@admin.register(PersonalApiKey)
class PersonalApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "name",
        "user",
        "created",
        "last_used_at",
        "expiry_date",
        "revoked",
    ]
    list_filter = ["revoked", "created"]
    search_fields = ["prefix", "name", "user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "created", "last_used_at", "user"]
    fields = [
        "name",
        "user",
        "prefix",
        "created",
        "last_used_at",
        "expiry_date",
        "revoked",
    ]

    def has_add_permission(self, request):
        # A key's secret is shown once to its owner; staff cannot mint keys for others.
        return False
