from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from billing import services as billing_services
from billing.admin import GrantForm
from community import moderation, services
from community.models import (
    AuditEntry,
    Comment,
    Follow,
    ModerationAction,
    Notification,
    PersonalApiKey,
    Profile,
    Rating,
    Report,
    ReportStatus,
    User,
)
from community.websocket_auth import websocket_credentials_changed
from config.admin import RecordAdmin

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
        "is_suspended",
        "is_hidden",
        "date_joined",
        "last_login",
        "active_api_keys",
    ]
    list_filter = [
        "is_staff",
        "is_superuser",
        "is_active",
        "is_suspended",
        "is_hidden",
        "groups",
        "date_joined",
        "last_login",
    ]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering = ["-date_joined"]
    date_hierarchy = "date_joined"
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Moderation"), {"fields": ["is_suspended", "is_hidden"]}),
    ]
    # Through the actions: hiding someone also takes their ratings out of
    # the agents' counts (community.moderation.user_set_hidden).
    readonly_fields = ["is_suspended", "is_hidden"]
    actions = ["suspend", "unsuspend", "hide", "unhide", "grant_credits"]

    def _apply(self, request, queryset, function, field, value, done):
        for user in queryset:
            function(user=user, staff=request.user, **{field: value})
        self.message_user(request, done % {"n": queryset.count()})

    @admin.action(description=_("Suspend (no publishing, comments or messages)"))
    def suspend(self, request, queryset):
        self._apply(
            request,
            queryset,
            moderation.user_set_suspended,
            "suspended",
            True,
            _("Suspended %(n)d people."),
        )

    @admin.action(description=_("Lift the suspension"))
    def unsuspend(self, request, queryset):
        self._apply(
            request,
            queryset,
            moderation.user_set_suspended,
            "suspended",
            False,
            _("Lifted %(n)d suspensions."),
        )

    @admin.action(description=_("Hide from the community (profile, agents, posts)"))
    def hide(self, request, queryset):
        self._apply(
            request,
            queryset,
            moderation.user_set_hidden,
            "hidden",
            True,
            _("Hid %(n)d people."),
        )

    @admin.action(description=_("Show in the community again"))
    def unhide(self, request, queryset):
        self._apply(
            request,
            queryset,
            moderation.user_set_hidden,
            "hidden",
            False,
            _("Showed %(n)d people."),
        )

    @admin.action(description=_("Grant credits…"))
    def grant_credits(self, request, queryset):
        """Ask how many credits and why, then give them to each selected
        person (filter by group, or select all, for a group or everyone)."""
        form = GrantForm(request.POST if "grant" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                entries = billing_services.credits_grant(
                    users=list(queryset),
                    amount=billing_services.to_millicredits(
                        form.cleaned_data["credits"]
                    ),
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error("credits" if field == "amount" else field, problems)
            else:
                self.message_user(
                    request,
                    _("Granted %(credits)s credits to %(n)d people.")
                    % {"credits": form.cleaned_data["credits"], "n": len(entries)},
                )
                return None
        return render(
            request,
            "admin/billing/grant.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Grant credits"),
                "form": form,
                "people": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    def log_change(self, request, obj, message):
        # Both ways staff change an account end here: the change form (which
        # may switch is_active off) and the password form (a new password
        # ends every session). The person's open websockets re-check.
        websocket_credentials_changed(user_id=obj.pk)
        return super().log_change(request, obj, message)

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
class PersonalApiKeyAdmin(RecordAdmin):
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
    fields = [
        "name",
        "user",
        "prefix",
        "created",
        "last_used_at",
        "expiry_date",
        "revoked",
    ]
    # Staff revoke keys with the action below, through the service, so each
    # revocation is in the audit log; a revoked key stays for that record.
    readonly_fields = fields
    actions = ["revoke"]

    # Not added here either: a key's secret is shown once to its owner, so
    # staff cannot mint keys for others.

    @admin.action(description=_("Revoke the selected keys"), permissions=["view"])
    def revoke(self, request, queryset):
        revoked = 0
        for api_key in queryset.filter(revoked=False).select_related("user"):
            services.api_key_revoke(api_key=api_key, staff=request.user)
            revoked += 1
        self.message_user(request, _("%(n)d keys revoked.") % {"n": revoked})


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "followers_count", "following_count"]
    search_fields = ["user__username", "display_name"]
    list_select_related = ["user"]
    # The counts belong to the follow services.
    readonly_fields = ["user", "followers_count", "following_count", "updated_at"]


@admin.register(Follow)
class FollowAdmin(RecordAdmin):
    list_display = ["follower", "followee", "created_at"]
    search_fields = ["follower__username", "followee__username"]
    list_select_related = ["follower", "followee"]
    raw_id_fields = ["follower", "followee"]

    # Read-only: adding or removing follows here would leave the profile
    # counts wrong.


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "text", "created_at", "read_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["recipient__username", "text"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient", "actor"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "agent",
        "workflow",
        "author",
        "excerpt",
        "is_hidden",
        "created_at",
    ]
    list_filter = ["is_hidden", "hidden_by_staff", "created_at"]
    search_fields = ["body", "author__username", "agent__name", "workflow__name"]
    list_select_related = ["agent", "workflow", "author"]
    fields = [
        "agent",
        "workflow",
        "author",
        "parent",
        "body",
        "is_hidden",
        "hidden_by_staff",
        "created_at",
        "edited_at",
        "deleted_at",
    ]
    readonly_fields = fields
    actions = ["hide_comments", "show_comments"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("comment"))
    def excerpt(self, comment):
        return comment.body[:80]

    @admin.action(description=_("Hide (the agent's owner cannot show it again)"))
    def hide_comments(self, request, queryset):
        for comment in queryset:
            moderation.comment_set_hidden_by_staff(
                comment=comment, hidden=True, staff=request.user
            )
        self.message_user(request, _("Hid %(n)d comments.") % {"n": queryset.count()})

    @admin.action(description=_("Show again"))
    def show_comments(self, request, queryset):
        for comment in queryset:
            moderation.comment_set_hidden_by_staff(
                comment=comment, hidden=False, staff=request.user
            )
        self.message_user(
            request, _("Showed %(n)d comments.") % {"n": queryset.count()}
        )


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "agent",
        "workflow",
        "user",
        "stars",
        "is_hidden",
        "updated_at",
    ]
    list_filter = ["is_hidden", "stars"]
    search_fields = ["review", "user__username", "agent__name", "workflow__name"]
    list_select_related = ["agent", "workflow", "user"]
    fields = ["agent", "workflow", "user", "stars", "review", "is_hidden", "updated_at"]
    # Through the actions: the agent's counts move with a hidden rating.
    readonly_fields = fields
    actions = ["hide_ratings", "show_ratings"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Hide (out of the page and the counts)"))
    def hide_ratings(self, request, queryset):
        for rating in queryset:
            moderation.rating_set_hidden_by_staff(
                rating=rating, hidden=True, staff=request.user
            )
        self.message_user(request, _("Hid %(n)d ratings.") % {"n": queryset.count()})

    @admin.action(description=_("Show again"))
    def show_ratings(self, request, queryset):
        for rating in queryset:
            moderation.rating_set_hidden_by_staff(
                rating=rating, hidden=False, staff=request.user
            )
        self.message_user(request, _("Showed %(n)d ratings.") % {"n": queryset.count()})


class TargetTypeFilter(admin.SimpleListFilter):
    title = _("content")
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [
            ("agent", _("Agents")),
            ("comment", _("Comments")),
            ("user", _("People")),
        ]

    def queryset(self, request, queryset):
        if self.value() in moderation.TARGET_TYPES:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


# The buttons on a report's page: (POST name, action).
REPORT_BUTTONS = {f"_{action}": action for action in ModerationAction.values}


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The moderation queue: open reports first. Act from the list (select,
    then an action) or from a report's page (its buttons). Each action
    closes every open report about the same thing."""

    change_form_template = "admin/community/report/change_form.html"
    list_display = [
        "created_at",
        "status",
        "target_link",
        "reason",
        "reporter",
        "open_reports",
        "action",
    ]
    list_filter = ["status", TargetTypeFilter, "reason", "action", "created_at"]
    search_fields = [
        "details",
        "snapshot",
        "reporter__username",
        "agent__name",
        "user__username",
        "comment__body",
    ]
    list_select_related = [
        "reporter",
        "agent__owner",
        "comment__agent",
        "comment__workflow",
        "user",
    ]
    fields = [
        "status",
        "target_link",
        "author",
        "reason",
        "details",
        "snapshot",
        "reporter",
        "created_at",
        "staff_note",
        "action",
        "resolved_by",
        "resolved_at",
    ]
    readonly_fields = [f for f in fields if f != "staff_note"]
    actions = [
        "hide_content",
        "delete_content",
        "warn_author",
        "suspend_author",
        "dismiss",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("status", "-created_at")

    def changelist_view(self, request, extra_context=None):
        # The queue opens on the open reports.
        if not request.GET and request.method == "GET":
            return HttpResponseRedirect(
                request.path + f"?status__exact={ReportStatus.OPEN}"
            )
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        self._open_counts = moderation.open_counts_by_target(changelist.result_list)
        return changelist

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Reports are the record of what was done.
        return False

    @admin.display(description=_("content"))
    def target_link(self, report):
        target = report.target
        if target is None:
            return _("(deleted)")
        if report.agent_id:
            url, label = target.get_listing_url(), _("Agent: %s") % target.name
        elif report.comment_id:
            url = f"{target.target.get_listing_url()}#comment-{target.pk}"
            label = _("Comment on %s") % target.target.name
        else:
            url, label = target.get_absolute_url(), _("Person: %s") % target.username
        return format_html('<a href="{}" target="_blank">{}</a>', url, label)

    @admin.display(description=_("author"))
    def author(self, report):
        target = report.target
        if target is None:
            return "-"
        author = moderation.author_of(target)
        url = reverse("admin:community_user_change", args=[author.pk])
        flags = []
        if author.is_suspended:
            flags.append(_("suspended"))
        if author.is_hidden:
            flags.append(_("hidden"))
        return format_html(
            '<a href="{}">{}</a> {}', url, author.username, ", ".join(map(str, flags))
        )

    @admin.display(description=_("open reports on it"))
    def open_reports(self, report):
        counts = getattr(self, "_open_counts", {})
        return counts.get((report.target_type, getattr(report.target, "pk", None)), 0)

    def _resolve(self, request, reports, action):
        closed = 0
        for report in reports:
            try:
                closed += moderation.report_resolve(
                    report=report, staff=request.user, action=action
                )
            except ValidationError as error:
                for problem in error.messages:
                    self.message_user(request, problem, messages.ERROR)
        if closed:
            self.message_user(
                request,
                _("%(action)s: closed %(n)d reports.")
                % {"action": ModerationAction(action).label, "n": closed},
            )

    @admin.action(description=_("Hide what was reported"))
    def hide_content(self, request, queryset):
        self._resolve(request, queryset, ModerationAction.HIDE)

    @admin.action(description=_("Delete what was reported"))
    def delete_content(self, request, queryset):
        self._resolve(request, queryset, ModerationAction.DELETE)

    @admin.action(description=_("Warn the author"))
    def warn_author(self, request, queryset):
        self._resolve(request, queryset, ModerationAction.WARN)

    @admin.action(description=_("Hide it and suspend the author"))
    def suspend_author(self, request, queryset):
        self._resolve(request, queryset, ModerationAction.SUSPEND)

    @admin.action(description=_("Dismiss (nothing wrong)"))
    def dismiss(self, request, queryset):
        self._resolve(request, queryset, ModerationAction.DISMISS)

    def response_change(self, request, obj):
        for button, action in REPORT_BUTTONS.items():
            if button in request.POST:
                self._resolve(request, [obj], action)
                return HttpResponseRedirect(
                    reverse("admin:community_report_changelist")
                )
        return super().response_change(request, obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordAdmin):
    """The audit log, for staff to read: nothing here adds, changes or
    deletes an entry (the database refuses the last two anyway)."""

    list_display = [
        "created_at",
        "action",
        "actor_username",
        "target_type",
        "target_label",
        "ip_address",
    ]
    list_filter = [
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = [
        "actor_username",
        "target_label",
        "target_id",
        "ip_address",
        "request_id",
    ]
    list_select_related = ["actor"]
    fields = [
        "created_at",
        "action",
        "actor",
        "actor_username",
        "target_type",
        "target_id",
        "target_label",
        "details",
        "ip_address",
        "user_agent",
        "request_id",
    ]
    readonly_fields = fields
