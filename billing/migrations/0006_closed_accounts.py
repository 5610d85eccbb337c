"""Closed credit accounts: a person who deletes their account leaves their
ledger behind, detached from them (billing.services.account_close)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_purchases"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledgerentry_kind_valid",
        ),
        migrations.AddField(
            model_name="creditaccount",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="closed"),
        ),
        migrations.AlterField(
            model_name="creditaccount",
            name="user",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="credit_account",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("grant", "Free credits"),
                    ("purchase", "Purchase"),
                    ("allocation", "Subscription allocation"),
                    ("run_charge", "Run"),
                    ("refund", "Refund"),
                    ("expiry", "Expired"),
                    ("adjustment", "Staff adjustment"),
                    ("closure", "Account closed"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="purchases",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="creditaccount",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("closed_at__isnull", True), ("user__isnull", False)),
                    models.Q(
                        ("balance", 0),
                        ("closed_at__isnull", False),
                        ("held", 0),
                        ("user__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="creditaccount_closed_is_anonymous_and_empty",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "grant",
                            "purchase",
                            "allocation",
                            "run_charge",
                            "refund",
                            "expiry",
                            "adjustment",
                            "closure",
                        ],
                    )
                ),
                name="ledgerentry_kind_valid",
            ),
        ),
    ]
