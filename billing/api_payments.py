"""Paying over the API: Checkout Sessions for packs and plans, the customer
portal, your plan and your purchases. Credits arrive through Stripe's
webhooks (billing.webhooks), never from these calls."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import payments
from billing.api import CreditsField
from billing.credits_off import CreditsOnMixin
from billing.models import Purchase
from billing.pricing import PACKS, PLANS

PACK_CHOICES = [p["id"] for p in PACKS]
PLAN_CHOICES = [p["id"] for p in PLANS if p["monthly_cents"]]


def checkout_urls(request) -> dict[str, str]:
    """Where Stripe sends the buyer back: always this site's own pages."""
    success = request.build_absolute_uri(reverse("billing:checkout-success"))
    return {
        "success_url": f"{success}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": request.build_absolute_uri(reverse("billing:checkout-cancelled")),
    }


def unavailable(error: payments.PaymentsUnavailableError) -> Response:
    return Response({"detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)


class CheckoutRequestSerializer(serializers.Serializer):
    pack = serializers.ChoiceField(choices=PACK_CHOICES, required=False)
    plan = serializers.ChoiceField(choices=PLAN_CHOICES, required=False)
    interval = serializers.ChoiceField(choices=payments.INTERVALS, default="month")

    def validate(self, attrs):
        if bool(attrs.get("pack")) == bool(attrs.get("plan")):
            raise serializers.ValidationError("Give either `pack` or `plan`.")
        return attrs


CheckoutSchema = inline_serializer(
    "CheckoutSession",
    {
        "id": serializers.CharField(),
        "url": serializers.URLField(help_text="Send the buyer here."),
        "checkout_url": serializers.URLField(help_text="The same as `url`."),
        "mode": serializers.ChoiceField(choices=["payment", "subscription"]),
    },
)


class CreateCheckoutSessionView(CreditsOnMixin, APIView):
    """A Stripe Checkout Session for a credit pack (`pack`) or a plan (`plan`
    and `interval`). Answers 201 with the URL to send the buyer to; 503 when
    payments are not set up here or Stripe cannot be reached."""

    request_serializer = CheckoutRequestSerializer

    @extend_schema(
        operation_id="payments_checkout_session_create",
        request=CheckoutRequestSerializer,
        responses={201: CheckoutSchema},
    )
    def post(self, request):
        serializer = self.request_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            session = payments.checkout_session_create(
                user=request.user, **serializer.validated_data, **checkout_urls(request)
            )
        except ValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        except payments.PaymentsUnavailableError as error:
            return unavailable(error)
        return Response(
            {**session, "checkout_url": session["url"]}, status=status.HTTP_201_CREATED
        )


class PackRequestSerializer(serializers.Serializer):
    pack = serializers.ChoiceField(choices=PACK_CHOICES)


class PurchaseCreditsView(CreateCheckoutSessionView):
    """Buy a credit pack: the Checkout Session for `pack`, as
    `/payments/create-checkout-session/` makes it."""

    request_serializer = PackRequestSerializer

    @extend_schema(
        operation_id="credits_purchase",
        request=PackRequestSerializer,
        responses={201: CheckoutSchema},
    )
    def post(self, request):
        return super().post(request)


class PortalView(CreditsOnMixin, APIView):
    """A Stripe customer-portal session: change or cancel the plan, see
    invoices and payment methods."""

    @extend_schema(
        operation_id="payments_portal",
        request=None,
        responses=inline_serializer("PortalSession", {"url": serializers.URLField()}),
    )
    def post(self, request):
        try:
            portal = payments.portal_session_create(
                user=request.user,
                return_url=request.build_absolute_uri(reverse("billing:credits")),
            )
        except payments.PaymentsUnavailableError as error:
            return unavailable(error)
        return Response(portal)


class SubscriptionView(CreditsOnMixin, APIView):
    """Your plan: `free`, or the paid plan Stripe last told us about."""

    @extend_schema(
        operation_id="payments_subscription",
        responses=inline_serializer(
            "Plan",
            {
                "id": serializers.CharField(),
                "name": serializers.CharField(),
                "monthly_credits": serializers.IntegerField(),
                "pack_discount_percent": serializers.IntegerField(),
                "interval": serializers.CharField(allow_null=True),
                "status": serializers.CharField(allow_null=True),
                "cancel_at_period_end": serializers.BooleanField(),
                "renews_at": serializers.IntegerField(allow_null=True),
            },
        ),
    )
    def get(self, request):
        plan = payments.plan_for(user=request.user)
        return Response(
            {
                key: plan.get(key)
                for key in (
                    "id",
                    "name",
                    "monthly_credits",
                    "pack_discount_percent",
                    "interval",
                    "status",
                    "renews_at",
                )
            }
            | {"cancel_at_period_end": bool(plan.get("cancel_at_period_end"))}
        )


class PurchaseSerializer(serializers.ModelSerializer):
    credits = CreditsField()
    credits_refunded = CreditsField()

    class Meta:
        model = Purchase
        fields = [
            "id",
            "pack",
            "credits",
            "amount_cents",
            "currency",
            "status",
            "amount_refunded_cents",
            "credits_refunded",
            "created_at",
            "paid_at",
        ]
        read_only_fields = fields


class PurchaseListView(CreditsOnMixin, ListAPIView):
    """Your credit-pack purchases, newest first."""

    serializer_class = PurchaseSerializer

    def get_queryset(self):
        return Purchase.objects.filter(user=self.request.user)
