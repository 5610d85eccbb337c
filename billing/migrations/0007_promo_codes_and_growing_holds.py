"""Promo codes, and run holds that grow as runs spend: a budget's ``held``
is what it holds now (runs in progress held their whole unspent budget)."""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


def hold_what_is_unspent(apps, schema_editor):
    RunBudget = apps.get_model("billing", "RunBudget")
    RunBudget.objects.filter(released_at__isnull=True).update(
        held=models.F("reserved") - models.F("charged")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0016_run_step_cancelled"),
        ("billing", "0006_closed_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PromoCode",
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
                    "code",
                    models.CharField(max_length=40, unique=True, verbose_name="code"),
                ),
                (
                    "amount",
                    models.BigIntegerField(verbose_name="credits each (milli-credits)"),
                ),
                (
                    "expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="expires"),
                ),
                (
                    "max_redemptions",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Empty: any number of people.",
                        null=True,
                        verbose_name="most redemptions",
                    ),
                ),
                (
                    "redeemed",
                    models.PositiveIntegerField(default=0, verbose_name="redeemed"),
                ),
                (
                    "description",
                    models.CharField(
                        blank=True,
                        help_text="Shown in the history of those who redeem it.",
                        max_length=200,
                        verbose_name="description",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="PromoRedemption",
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
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledgerentry_kind_valid",
        ),
        migrations.AddField(
            model_name="runbudget",
            name="held",
            field=models.BigIntegerField(
                default=0, verbose_name="held now (milli-credits)"
            ),
        ),
        migrations.RunPython(hold_what_is_unspent, migrations.RunPython.noop),
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
                    ("promo", "Promo code"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="runbudget",
            name="reserved",
            field=models.BigIntegerField(verbose_name="budget (milli-credits)"),
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
                            "promo",
                        ],
                    )
                ),
                name="ledgerentry_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="runbudget",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("held__gte", 0),
                    (
                        "held__lte",
                        django.db.models.expressions.CombinedExpression(
                            models.F("reserved"), "-", models.F("charged")
                        ),
                    ),
                ),
                name="runbudget_held_within_budget",
            ),
        ),
        migrations.AddField(
            model_name="promocode",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="promoredemption",
            name="entry",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="promo_redemption",
                to="billing.ledgerentry",
            ),
        ),
        migrations.AddField(
            model_name="promoredemption",
            name="promo",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="redemptions",
                to="billing.promocode",
            ),
        ),
        migrations.AddField(
            model_name="promoredemption",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="promo_redemptions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="promocode",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="promocode_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="promocode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("max_redemptions__isnull", True),
                    ("redeemed__lte", models.F("max_redemptions")),
                    _connector="OR",
                ),
                name="promocode_redeemed_within_max",
            ),
        ),
        migrations.AddConstraint(
            model_name="promoredemption",
            constraint=models.UniqueConstraint(
                fields=("promo", "user"), name="promoredemption_once_per_person"
            ),
        ),
    ]
