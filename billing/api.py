"""Credits over the API: the balance, the history, and redeeming a promo
code."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.api_usage import ThresholdSchema, threshold_update
from billing.credits_off import CreditsOnMixin
from billing.models import EntryKind, LedgerEntry
from billing.pricing import as_credits
from config.api import call_service

credits = as_credits


@extend_schema_field(OpenApiTypes.NUMBER)
class CreditsField(serializers.Field):
    def to_representation(self, value):
        return credits(value)


BalanceSchema = inline_serializer(
    "CreditBalance",
    {
        "balance": serializers.FloatField(help_text="Credits, e.g. 10 or 9.25."),
        "low_balance_threshold": serializers.FloatField(),
        "low": serializers.BooleanField(help_text="Below the warning threshold."),
        "expiring": inline_serializer(
            "ExpiringCredits",
            {
                "credits": serializers.FloatField(),
                "expires_at": serializers.DateTimeField(),
            },
            many=True,
        ),
    },
)


class BalanceView(CreditsOnMixin, APIView):
    """Your credits now, and which of them expire when."""

    @extend_schema(operation_id="credits_balance", responses=BalanceSchema)
    def get(self, request):
        account = selectors.account_for(user=request.user)
        balance = account.balance if account else 0
        threshold = account.low_balance_threshold if account else 0
        return Response(
            {
                "balance": credits(balance),
                "low_balance_threshold": credits(threshold),
                "low": balance < threshold,
                "expiring": [
                    {"credits": credits(lot.remaining), "expires_at": lot.expires_at}
                    for lot in selectors.lots_expiring(user=request.user)
                ],
            }
        )

    @extend_schema(
        operation_id="credits_threshold_update",
        request=ThresholdSchema,
        responses=BalanceSchema,
    )
    def patch(self, request):
        """Set your low-balance warning threshold; answers as GET does."""
        threshold_update(request)
        return self.get(request)


class EntrySerializer(serializers.ModelSerializer):
    amount = CreditsField(help_text="Credits in (positive) or out (negative).")
    balance_after = CreditsField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "amount",
            "balance_after",
            "description",
            "run",
            "created_at",
        ]
        read_only_fields = fields


class HistoryFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)
    since = serializers.DateField(required=False, help_text="On or after (inclusive).")
    until = serializers.DateField(required=False, help_text="On or before (inclusive).")


class HistoryView(CreditsOnMixin, GenericAPIView):
    """Every change of your credits, newest first; filter by kind and dates.
    A run's charges carry its id."""

    serializer_class = EntrySerializer

    @extend_schema(
        operation_id="credits_history",
        parameters=[HistoryFilterSerializer],
        responses=EntrySerializer(many=True),
    )
    def get(self, request):
        filters = HistoryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        entries = selectors.entry_list(user=request.user, **filters.validated_data)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class PricingView(CreditsOnMixin, APIView):
    """What things cost: models (credits per 1K tokens), tools (per call),
    credit packs and subscription plans. Open to visitors."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="pricing",
        responses=inline_serializer(
            "Pricing",
            {
                "models": serializers.ListField(child=serializers.DictField()),
                "tools": serializers.ListField(child=serializers.DictField()),
                "packs": serializers.ListField(child=serializers.DictField()),
                "plans": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        from agents.selectors import model_list_active
        from billing.pricing import PACKS, PLANS

        return Response(
            {
                "models": [
                    {
                        "id": model.identifier,
                        "display_name": model.display_name,
                        "input_per_1k": float(model.input_price_per_1k),
                        "output_per_1k": float(model.output_price_per_1k),
                    }
                    for model in model_list_active()
                ],
                "tools": [
                    {
                        "tool": price.tool,
                        "per_call": float(price.per_call),
                        "per_1k_context": float(price.per_1k_context),
                    }
                    for price in selectors.tool_prices().values()
                ],
                "packs": [
                    {**pack, "price_usd": pack["price_cents"] / 100} for pack in PACKS
                ],
                "plans": PLANS,
            }
        )


class RedeemSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text="The promo code.")


class RedeemView(CreditsOnMixin, APIView):
    """Redeem a promo code: its credits join your balance, once per person.
    400 with a message on ``code`` when it is unknown, expired, used up or
    already redeemed by you."""

    @extend_schema(
        operation_id="credits_redeem",
        request=RedeemSerializer,
        responses=inline_serializer(
            "PromoRedeemed",
            {
                "code": serializers.CharField(),
                "credits": serializers.FloatField(help_text="Credits added."),
                "balance": serializers.FloatField(help_text="Your balance now."),
            },
        ),
    )
    def post(self, request):
        body = RedeemSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = call_service(
            services.promo_redeem, user=request.user, code=body.validated_data["code"]
        )
        return Response(
            {
                "code": services.promo_code_normalize(body.validated_data["code"]),
                "credits": credits(entry.amount),
                "balance": credits(entry.balance_after),
            }
        )
