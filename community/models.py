from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from community.avatars import AVATAR_DIRECTORY

username_validator = RegexValidator(
    regex=r"^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\Z",
    message=_(
        "Use letters, digits, hyphens and underscores, starting and ending with a "
        "letter or digit."
    ),
    code="invalid_username",
)


# The account that keeps what deleted accounts shared (community.account_deletion):
# inactive, with no usable password; the name is reserved at sign-up.
DELETED_USER_USERNAME = "deleted-user"


class User(AbstractUser):
    """A person with an account. `username` appears in public URLs (/u/<username>/)."""

    username = models.CharField(
        _("username"),
        max_length=39,
        unique=True,
        validators=[username_validator],
        help_text=_("Up to 39 letters, digits, hyphens or underscores."),
        error_messages={"unique": _("That username is taken.")},
    )
    email = models.EmailField(_("email address"), blank=True)
    # Moderation (community.moderation). A suspended account can sign in and
    # see its own things but cannot publish, comment, rate, react, report or
    # message. A hidden account's profile, agents, comments and reviews are
    # gone from every public page and the API.
    is_suspended = models.BooleanField(_("suspended"), default=False)
    is_hidden = models.BooleanField(_("hidden by moderators"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Usernames live in URLs: "Alice" and "alice" must not be two people.
            models.UniqueConstraint(
                Lower("username"), name="community_user_username_ci_unique"
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="community_user_email_ci_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def get_absolute_url(self) -> str:
        return reverse("community:profile", kwargs={"username": self.username})


class PersonalApiKey(AbstractAPIKey):
    """A user's key for the API (`Authorization: Bearer <prefix>.<secret>`).

    Only a SHA-512 hash of the key is stored; the key itself is shown once, at
    creation. `prefix` identifies the key publicly (in URLs and listings).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("user")
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("personal API key")
        verbose_name_plural = _("personal API keys")
        indexes = [models.Index(fields=["user", "-created"])]


class NotificationKind(models.TextChoices):
    FOLLOW = "follow", _("New follower")
    COMMENT = "comment", _("Comment on your agent")
    REPLY = "reply", _("Reply to your comment")
    RATING = "rating", _("Rating of your agent")
    FORK = "fork", _("Fork of your agent")
    MESSAGE = "message", _("Direct message")
    LOW_BALANCE = "low_balance", _("Low credit balance")
    MODERATION = "moderation", _("Notice from the moderators")


# Kinds emailed unless the person turns them off. Low balance has its own
# email, sent by billing once per dip, so a second one is off by default.
EMAIL_DEFAULTS = {
    kind: kind != NotificationKind.LOW_BALANCE for kind in NotificationKind
}


class Profile(models.Model):
    """What a person shows others on /u/<username>/, and their email choices.

    Created on first write (a follow, an edit); pages show defaults until then.
    The follower counts are kept by the follow services, so pages never count.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    bio = models.TextField(_("bio"), max_length=2000, blank=True)
    links = models.JSONField(_("links"), default=list, blank=True)
    avatar = models.ImageField(
        _("avatar"), upload_to=f"{AVATAR_DIRECTORY}/", blank=True
    )
    followers_count = models.PositiveIntegerField(_("followers"), default=0)
    following_count = models.PositiveIntegerField(_("following"), default=0)
    # {kind: bool}; a kind missing here follows EMAIL_DEFAULTS.
    email_preferences = models.JSONField(
        _("email preferences"), default=dict, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"

    def get_absolute_url(self) -> str:
        return self.user.get_absolute_url()

    @property
    def name(self) -> str:
        return self.display_name or self.user.username

    @property
    def initials(self) -> str:
        return self.name[:1].upper()

    def wants_email(self, kind: str) -> bool:
        return bool(self.email_preferences.get(kind, EMAIL_DEFAULTS.get(kind, False)))


class Follow(models.Model):
    follower = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="following_set"
    )
    followee = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="follower_set"
    )
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "followee"], name="follow_unique_pair"
            ),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")),
                name="follow_not_self",
            ),
        ]
        indexes = [
            models.Index(fields=["followee", "-created_at"]),
            models.Index(fields=["follower", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class Notification(models.Model):
    """Something a person should hear about; made only by services.notify."""

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.CharField(_("text"), max_length=300)
    # A path on this site ("/u/alice/"), never another site.
    url = models.CharField(_("link"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=NotificationKind.values),
                name="notification_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


# --- The conversation around agents (community.reviews) ---------------------

# The reactions people can leave on agents and comments, in display order.
REACTIONS = ["👍", "❤️", "🚀", "🤔"]


class Rating(models.Model):
    """One person's stars (and optional review) for one agent; rating again
    edits it. The agent keeps the count and sum (community.reviews)."""

    # One of the two: an agent's rating, or a workflow's.
    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.CASCADE,
        related_name="ratings",
        null=True,
        blank=True,
    )
    workflow = models.ForeignKey(
        "workflows.Workflow",
        on_delete=models.CASCADE,
        related_name="ratings",
        null=True,
        blank=True,
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="ratings")
    stars = models.PositiveSmallIntegerField(_("stars"))
    review = models.TextField(_("review (markdown)"), blank=True, max_length=5000)
    # The review rendered and sanitized when written (config.markdown), so
    # pages do not render markdown on every view.
    review_html = models.TextField(blank=True, editable=False)
    # Hidden by staff (moderation): off the pages and out of the counts.
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "user"], name="rating_one_per_user_per_agent"
            ),
            models.UniqueConstraint(
                fields=["workflow", "user"],
                condition=models.Q(workflow__isnull=False),
                name="rating_one_per_user_per_workflow",
            ),
            models.CheckConstraint(
                condition=models.Q(agent__isnull=False, workflow__isnull=True)
                | models.Q(agent__isnull=True, workflow__isnull=False),
                name="rating_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5),
                name="rating_stars_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "-updated_at"]),
            models.Index(fields=["workflow", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.stars}★ by {self.user_id} for {self.target}"

    @property
    def target(self):
        """The agent or workflow rated."""
        return self.agent if self.agent_id else self.workflow


class Comment(models.Model):
    """A comment on an agent or a workflow, or a reply to one (one level
    deep)."""

    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.CASCADE,
        related_name="comments",
        null=True,
        blank=True,
    )
    workflow = models.ForeignKey(
        "workflows.Workflow",
        on_delete=models.CASCADE,
        related_name="comments",
        null=True,
        blank=True,
    )
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
    )
    body = models.TextField(_("comment (markdown)"), blank=True, max_length=5000)
    # Rendered and sanitized when written (config.markdown).
    body_html = models.TextField(blank=True, editable=False)
    # Hidden by the agent's owner or staff: gone from every page and the API.
    is_hidden = models.BooleanField(default=False)
    # Hidden by staff: the agent's owner cannot show it again.
    hidden_by_staff = models.BooleanField(default=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Deleted by its author while it had replies: kept, empty, as "deleted".
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["agent", "parent", "-created_at"]),
            models.Index(fields=["workflow", "parent", "-created_at"]),
            models.Index(fields=["author", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agent__isnull=False, workflow__isnull=True)
                | models.Q(agent__isnull=True, workflow__isnull=False),
                name="comment_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.target}"

    @property
    def target(self):
        """The agent or workflow commented on."""
        return self.agent if self.agent_id else self.workflow


class Reaction(models.Model):
    """One person's emoji on an agent, a workflow or a comment (toggled)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reactions",
    )
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reactions",
    )
    workflow = models.ForeignKey(
        "workflows.Workflow",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reactions",
    )
    emoji = models.CharField(max_length=8, choices=[(e, e) for e in REACTIONS])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    agent__isnull=False, comment__isnull=True, workflow__isnull=True
                )
                | models.Q(
                    agent__isnull=True, comment__isnull=False, workflow__isnull=True
                )
                | models.Q(
                    agent__isnull=True, comment__isnull=True, workflow__isnull=False
                ),
                name="reaction_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(emoji__in=REACTIONS), name="reaction_emoji_valid"
            ),
            models.UniqueConstraint(
                fields=["user", "agent", "emoji"],
                condition=models.Q(agent__isnull=False),
                name="reaction_once_per_agent",
            ),
            models.UniqueConstraint(
                fields=["user", "comment", "emoji"],
                condition=models.Q(comment__isnull=False),
                name="reaction_once_per_comment",
            ),
            models.UniqueConstraint(
                fields=["user", "workflow", "emoji"],
                condition=models.Q(workflow__isnull=False),
                name="reaction_once_per_workflow",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id}"


# --- Direct messages between people (community.messaging) -------------------


class Block(models.Model):
    """``blocker`` wants no messages from ``blocked`` (and sends none to them)."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["blocker", "blocked"], name="block_unique_pair"
            ),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")),
                name="block_not_self",
            ),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"])]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Thread(models.Model):
    """The private conversation of two people: one per pair, whoever wrote
    first. ``user_a`` is the one with the lower id, so the pair has one order
    and the unique constraint holds it. Each side keeps its own unread count
    and read time; the last message is kept for the inbox's preview."""

    user_a = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    user_b = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    a_unread = models.PositiveIntegerField(default=0)
    b_unread = models.PositiveIntegerField(default=0)
    a_read_at = models.DateTimeField(null=True, blank=True)
    b_read_at = models.DateTimeField(null=True, blank=True)
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When its last message came: the inbox order.
    updated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user_a", "user_b"], name="thread_unique_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(user_a__lt=models.F("user_b")),
                name="thread_pair_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["user_a", "-updated_at"]),
            models.Index(fields=["user_b", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return f"thread {self.pk} of {self.user_a_id} and {self.user_b_id}"

    def get_absolute_url(self) -> str:
        return reverse("community:message_thread", kwargs={"thread_id": self.pk})

    def other(self, user: User) -> User:
        return self.user_b if user.pk == self.user_a_id else self.user_a

    def unread_for(self, user: User) -> int:
        return self.a_unread if user.pk == self.user_a_id else self.b_unread


class Message(models.Model):
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(_("message (markdown)"), max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["thread", "-created_at"]),
            models.Index(fields=["sender", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.thread_id}"


# --- Reports and the moderation queue (community.moderation) ---------------


class ReportReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ABUSE = "abuse", _("Harassment or hate")
    HARMFUL = "harmful", _("Dangerous, illegal or malicious")
    SEXUAL = "sexual", _("Sexual content")
    IMPERSONATION = "impersonation", _("Impersonation or stolen work")
    PRIVACY = "privacy", _("Someone's private information")
    OTHER = "other", _("Something else")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Action taken")
    DISMISSED = "dismissed", _("Dismissed")


class ModerationAction(models.TextChoices):
    HIDE = "hide", _("Hidden")
    DELETE = "delete", _("Deleted")
    WARN = "warn", _("Author warned")
    SUSPEND = "suspend", _("Author suspended")
    DISMISS = "dismiss", _("Dismissed")


class Report(models.Model):
    """Someone signed in reports an agent, a comment or a person; staff work
    the open reports in the admin. Exactly one target is set. One person has
    at most one open report per target."""

    reporter = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="reports_made"
    )
    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    comment = models.ForeignKey(
        Comment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_about",
        verbose_name=_("reported person"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReportReason.choices)
    details = models.TextField(_("details"), max_length=2000, blank=True)
    # What was reported, as it was then (the content may change or go).
    snapshot = models.TextField(_("content when reported"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReportStatus.choices,
        default=ReportStatus.OPEN,
    )
    action = models.CharField(
        _("action"), max_length=10, choices=ModerationAction.choices, blank=True
    )
    staff_note = models.TextField(
        _("note to the author"),
        max_length=1000,
        blank=True,
        help_text=_("Sent with a warning or a suspension. Plain text."),
    )
    resolved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One target when made; none once it has been deleted.
            models.CheckConstraint(
                condition=models.Q(agent__isnull=True, comment__isnull=True)
                | models.Q(agent__isnull=True, user__isnull=True)
                | models.Q(comment__isnull=True, user__isnull=True),
                name="report_at_most_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=ReportReason.values),
                name="report_reason_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReportStatus.values),
                name="report_status_valid",
            ),
            models.UniqueConstraint(
                fields=["reporter", "agent"],
                condition=models.Q(status="open", agent__isnull=False),
                name="report_open_once_per_agent",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=models.Q(status="open", comment__isnull=False),
                name="report_open_once_per_comment",
            ),
            models.UniqueConstraint(
                fields=["reporter", "user"],
                condition=models.Q(status="open", user__isnull=False),
                name="report_open_once_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["reporter", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.get_reason_display()})"

    @property
    def target_type(self) -> str:
        if self.agent_id:
            return "agent"
        if self.comment_id:
            return "comment"
        if self.user_id:
            return "user"
        return "gone"

    @property
    def target(self):
        return self.agent or self.comment or self.user


# --- The audit log of sensitive actions (community.audit) -------------------


class AuditAction(models.TextChoices):
    SIGNED_IN = "user.signed_in", _("Signed in")
    SIGN_IN_FAILED = "user.sign_in_failed", _("Sign-in failed")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    PROVIDER_KEY_ADDED = "provider_key.added", _("Provider key added")
    PROVIDER_KEY_REMOVED = "provider_key.removed", _("Provider key removed")
    CREDITS_ADJUSTED = "credits.adjusted", _("Credits adjusted by staff")
    AGENT_PUBLISHED = "agent.published", _("Agent published")
    AGENT_UNPUBLISHED = "agent.unpublished", _("Agent unpublished")
    AGENT_SHARED = "agent.shared", _("Agent visibility changed (not public)")
    WORKFLOW_PUBLISHED = "workflow.published", _("Workflow published")
    WORKFLOW_UNPUBLISHED = "workflow.unpublished", _("Workflow unpublished")
    WORKFLOW_SHARED = "workflow.shared", _("Workflow visibility changed (not public)")
    AGENT_HIDDEN = "moderation.agent_hidden", _("Agent hidden by staff")
    AGENT_SHOWN = "moderation.agent_shown", _("Agent shown again by staff")
    WORKFLOW_HIDDEN = "moderation.workflow_hidden", _("Workflow hidden by staff")
    WORKFLOW_SHOWN = "moderation.workflow_shown", _("Workflow shown again by staff")
    COMMENT_HIDDEN = "moderation.comment_hidden", _("Comment hidden by staff")
    COMMENT_SHOWN = "moderation.comment_shown", _("Comment shown again by staff")
    RATING_HIDDEN = "moderation.rating_hidden", _("Rating hidden by staff")
    RATING_SHOWN = "moderation.rating_shown", _("Rating shown again by staff")
    USER_HIDDEN = "moderation.user_hidden", _("Person hidden by staff")
    USER_SHOWN = "moderation.user_shown", _("Person shown again by staff")
    USER_SUSPENDED = "moderation.user_suspended", _("Person suspended")
    USER_UNSUSPENDED = "moderation.user_unsuspended", _("Suspension lifted")
    REPORT_RESOLVED = "moderation.report_resolved", _("Report resolved")
    ACCOUNT_EXPORTED = "account.exported", _("Account data exported")
    ACCOUNT_DELETED = "account.deleted", _("Account deleted")


class AuditEntry(models.Model):
    """One sensitive action: who, what, when and from where.

    Append-only: only community.audit.audit_record writes entries, the admin
    shows them read-only, and a trigger in PostgreSQL (migration 0008)
    refuses UPDATE and DELETE, except setting ``actor`` to NULL when that
    person's account is deleted. ``actor_username`` keeps the name.
    ``details`` is small and never holds a secret.
    """

    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The actor's username then: it outlives the account.
    actor_username = models.CharField(_("actor's username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(_("target type"), max_length=40, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values),
                name="auditentry_action_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="auditentry_recent"),
            models.Index(fields=["actor", "-created_at"], name="auditentry_actor"),
            models.Index(fields=["action", "-created_at"], name="auditentry_action"),
            models.Index(fields=["target_type", "target_id"], name="auditentry_target"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_username or '-'}"
