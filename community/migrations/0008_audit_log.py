"""The audit log (community.audit), append-only in the database itself."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Entries are never changed or deleted, whoever connects: the one change let
# through is the one account deletion needs, the actor's link set to NULL
# (Django's on_delete=SET_NULL) with every other column as it was, so the
# username snapshot outlives the account. SQLSTATE 23001 (restrict_violation)
# reaches Django as an IntegrityError. TRUNCATE is not refused: the test
# suite's flushes use it, and it needs the table owner's rights.
APPEND_ONLY = """
CREATE FUNCTION community_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.actor_id IS NOT NULL
       AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit log entries cannot be changed or deleted (% refused)',
        TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER community_auditentry_append_only
    BEFORE UPDATE OR DELETE ON community_auditentry
    FOR EACH ROW EXECUTE FUNCTION community_auditentry_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS community_auditentry_append_only ON community_auditentry;
DROP FUNCTION IF EXISTS community_auditentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0007_workflow_reviews"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "actor_username",
                    models.CharField(
                        blank=True, max_length=150, verbose_name="actor's username"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("user.signed_in", "Signed in"),
                            ("user.sign_in_failed", "Sign-in failed"),
                            ("api_key.created", "API key created"),
                            ("api_key.revoked", "API key revoked"),
                            ("provider_key.added", "Provider key added"),
                            ("provider_key.removed", "Provider key removed"),
                            ("credits.adjusted", "Credits adjusted by staff"),
                            ("agent.published", "Agent published"),
                            ("agent.unpublished", "Agent unpublished"),
                            ("agent.shared", "Agent visibility changed (not public)"),
                            ("workflow.published", "Workflow published"),
                            ("workflow.unpublished", "Workflow unpublished"),
                            (
                                "workflow.shared",
                                "Workflow visibility changed (not public)",
                            ),
                            ("moderation.agent_hidden", "Agent hidden by staff"),
                            ("moderation.agent_shown", "Agent shown again by staff"),
                            ("moderation.workflow_hidden", "Workflow hidden by staff"),
                            (
                                "moderation.workflow_shown",
                                "Workflow shown again by staff",
                            ),
                            ("moderation.comment_hidden", "Comment hidden by staff"),
                            (
                                "moderation.comment_shown",
                                "Comment shown again by staff",
                            ),
                            ("moderation.rating_hidden", "Rating hidden by staff"),
                            ("moderation.rating_shown", "Rating shown again by staff"),
                            ("moderation.user_hidden", "Person hidden by staff"),
                            ("moderation.user_shown", "Person shown again by staff"),
                            ("moderation.user_suspended", "Person suspended"),
                            ("moderation.user_unsuspended", "Suspension lifted"),
                            ("moderation.report_resolved", "Report resolved"),
                            ("account.exported", "Account data exported"),
                            ("account.deleted", "Account deleted"),
                        ],
                        max_length=40,
                        verbose_name="action",
                    ),
                ),
                (
                    "target_type",
                    models.CharField(
                        blank=True, max_length=40, verbose_name="target type"
                    ),
                ),
                (
                    "target_id",
                    models.CharField(
                        blank=True, max_length=64, verbose_name="target id"
                    ),
                ),
                (
                    "target_label",
                    models.CharField(blank=True, max_length=200, verbose_name="target"),
                ),
                (
                    "details",
                    models.JSONField(blank=True, default=dict, verbose_name="details"),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="IP address"
                    ),
                ),
                (
                    "user_agent",
                    models.CharField(
                        blank=True, max_length=300, verbose_name="user agent"
                    ),
                ),
                (
                    "request_id",
                    models.CharField(
                        blank=True, max_length=64, verbose_name="request id"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="when"),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="actor",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit log entry",
                "verbose_name_plural": "audit log",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["-created_at"], name="auditentry_recent"),
                    models.Index(
                        fields=["actor", "-created_at"], name="auditentry_actor"
                    ),
                    models.Index(
                        fields=["action", "-created_at"], name="auditentry_action"
                    ),
                    models.Index(
                        fields=["target_type", "target_id"], name="auditentry_target"
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "action__in",
                                [
                                    "user.signed_in",
                                    "user.sign_in_failed",
                                    "api_key.created",
                                    "api_key.revoked",
                                    "provider_key.added",
                                    "provider_key.removed",
                                    "credits.adjusted",
                                    "agent.published",
                                    "agent.unpublished",
                                    "agent.shared",
                                    "workflow.published",
                                    "workflow.unpublished",
                                    "workflow.shared",
                                    "moderation.agent_hidden",
                                    "moderation.agent_shown",
                                    "moderation.workflow_hidden",
                                    "moderation.workflow_shown",
                                    "moderation.comment_hidden",
                                    "moderation.comment_shown",
                                    "moderation.rating_hidden",
                                    "moderation.rating_shown",
                                    "moderation.user_hidden",
                                    "moderation.user_shown",
                                    "moderation.user_suspended",
                                    "moderation.user_unsuspended",
                                    "moderation.report_resolved",
                                    "account.exported",
                                    "account.deleted",
                                ],
                            )
                        ),
                        name="auditentry_action_valid",
                    )
                ],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, reverse_sql=DROP_APPEND_ONLY),
    ]
