"""Credits over the API: what your runs cost lately, and setting your
low-balance warning threshold (PATCH on the balance endpoint, whose view is
billing.api.BalanceView)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import services, usage
from billing.credits_off import CreditsOnMixin
from billing.pricing import as_credits
from config.api import raise_as_drf


class UsageFilterSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=usage.MAX_DAYS,
        default=usage.DEFAULT_DAYS,
        help_text="How many days back, today included (default 30).",
    )


UsageSchema = inline_serializer(
    "CreditUsage",
    {
        "since": serializers.DateField(help_text="The window's first day."),
        "until": serializers.DateField(help_text="Its last day: today."),
        "total": serializers.FloatField(help_text="Credits spent on runs."),
        "by_day": inline_serializer(
            "CreditUsageDay",
            {"date": serializers.DateField(), "credits": serializers.FloatField()},
            many=True,
        ),
        "by_agent": inline_serializer(
            "CreditUsageAgent",
            {
                "agent": serializers.IntegerField(
                    allow_null=True,
                    help_text="Null: a workflow's runs, or runs deleted since.",
                ),
                "workflow": serializers.IntegerField(
                    allow_null=True, help_text="A workflow's runs, together."
                ),
                "name": serializers.CharField(allow_null=True),
                "credits": serializers.FloatField(),
                "share": serializers.FloatField(help_text="Percent of the total."),
            },
            many=True,
        ),
        "by_model": inline_serializer(
            "CreditUsageModel",
            {
                "model": serializers.CharField(
                    allow_null=True, help_text="Null: runs deleted since."
                ),
                "name": serializers.CharField(allow_null=True),
                "credits": serializers.FloatField(),
                "share": serializers.FloatField(help_text="Percent of the total."),
            },
            many=True,
        ),
    },
)


def usage_body(summary: dict) -> dict:
    """A usage summary (billing.usage.usage_summary) as the API shows it."""
    return {
        "since": summary["first"],
        "until": summary["last"],
        "total": as_credits(summary["total"]),
        "by_day": [
            {"date": day["date"], "credits": as_credits(day["milli"])}
            for day in summary["by_day"]
        ],
        "by_agent": [
            {
                "agent": row["agent_id"],
                "workflow": row["workflow_id"],
                "name": row["name"],
                "credits": as_credits(row["milli"]),
                "share": row["share"],
            }
            for row in summary["by_agent"]
        ],
        "by_model": [
            {
                "model": row["model"],
                "name": row["name"],
                "credits": as_credits(row["milli"]),
                "share": row["share"],
            }
            for row in summary["by_model"]
        ],
    }


class UsageView(CreditsOnMixin, APIView):
    """Credits your runs spent over the last days: every day (zeros
    included), per agent and per model, each with its share of the total."""

    @extend_schema(
        operation_id="credits_usage",
        parameters=[UsageFilterSerializer],
        responses=UsageSchema,
    )
    def get(self, request):
        filters = UsageFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        summary = usage.usage_summary(
            user=request.user, days=filters.validated_data["days"]
        )
        return Response(usage_body(summary))


ThresholdSchema = inline_serializer(
    "CreditThreshold",
    {
        "low_balance_threshold": serializers.CharField(
            help_text='Credits, e.g. "5" or "2.5"; 0 turns the warning off.'
        )
    },
)


def threshold_update(request) -> None:
    """Set the caller's low-balance warning threshold from a PATCH body
    ``{"low_balance_threshold": "5"}``; a 400 with field messages otherwise.
    Used by billing.api.BalanceView.patch, which answers with the balance."""
    body = request.data
    if not isinstance(body, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    unknown = sorted(set(body) - {"low_balance_threshold"})
    if unknown:
        raise ValidationError(
            {name: ["This field cannot be changed."] for name in unknown}
        )
    if "low_balance_threshold" not in body:
        raise ValidationError({"low_balance_threshold": ["This field is required."]})
    try:
        services.account_threshold_set(
            user=request.user, threshold=body["low_balance_threshold"]
        )
    except DjangoValidationError as error:
        raise_as_drf(error)
