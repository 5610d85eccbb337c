"""Staff see each account's balance, ledger and lots, and adjust balances
through billing.services (a ledger entry with a reason), never by editing."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billing import payments, services
from billing.models import (
    MILLI,
    CreditAccount,
    CreditLot,
    LedgerEntry,
    PromoCode,
    PromoRedemption,
    Purchase,
)
from config.admin import RecordAdmin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["created_at", "kind", "amount", "balance_after", "description", "run"]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]
    max_num = 0


class CreditLotInline(ReadOnlyInline):
    model = CreditLot
    fields = ["created_at", "amount", "remaining", "expires_at"]
    readonly_fields = fields
    max_num = 0


class AdjustForm(forms.Form):
    credits = forms.DecimalField(
        max_digits=12,
        decimal_places=3,
        help_text="Positive to grant, negative to claw back.",
    )
    reason = forms.CharField(max_length=300, help_text="Shown in the user's history.")


def credits_field(help_text: str) -> forms.DecimalField:
    """Credits as staff type them: 5, 2.5 (at most three decimals)."""
    return forms.DecimalField(
        max_digits=12, decimal_places=3, min_value=Decimal("0.001"), help_text=help_text
    )


class GrantForm(forms.Form):
    """Credits for each of several people (the users admin's action)."""

    credits = credits_field("Credits each person gets.")
    reason = forms.CharField(max_length=300, help_text="Shown in their history.")


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "credits", "low_balance_threshold", "updated_at"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = [
        "user",
        "balance",
        "plan",
        "purchases",
        "created_at",
        "updated_at",
    ]
    fields = [
        "user",
        "balance",
        "low_balance_threshold",
        "plan",
        "purchases",
        "created_at",
        "updated_at",
    ]
    inlines = [CreditLotInline, LedgerEntryInline]

    @admin.display(description="credits", ordering="balance")
    def credits(self, account) -> str:
        return f"{account.balance / MILLI:g}"

    @admin.display(description="subscription")
    def plan(self, account) -> str:
        """The plan as Stripe last told us, linked to dj-stripe's record."""
        plan = payments.plan_for(user=account.user)
        if plan["id"] == "free":
            return "Free (no subscription)"
        url = (
            reverse("admin:djstripe_subscription_changelist")
            + f"?q={plan['subscription_id']}"
        )
        return format_html(
            '{} ({}ly, {}) <a href="{}">{}</a>',
            plan["name"],
            plan["interval"] or "?",
            plan["status"],
            url,
            plan["subscription_id"],
        )

    @admin.display(description="credit-pack purchases")
    def purchases(self, account) -> str:
        rows = Purchase.objects.filter(user=account.user)[:20]
        if not rows:
            return "None"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a>: {} credits, ${} — {}</li>',
                (
                    (
                        reverse("admin:billing_purchase_change", args=[p.pk]),
                        p.created_at.date(),
                        f"{p.credits / MILLI:g}",
                        f"{p.amount_cents / 100:.2f}",
                        p.get_status_display(),
                    )
                    for p in rows
                ),
            ),
        )

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "<int:account_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="billing_creditaccount_adjust",
            ),
            *super().get_urls(),
        ]

    def adjust_view(self, request, account_id: int):
        account = get_object_or_404(CreditAccount, pk=account_id)
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.credit_adjust(
                    user=account.user,
                    amount=services.to_millicredits(form.cleaned_data["credits"]),
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    target = "credits" if field == "amount" else field
                    target = target if target in form.fields else None
                    for problem in problems:
                        form.add_error(target, problem)
            else:
                messages.success(request, "Adjusted the balance.")
                return redirect(
                    reverse("admin:billing_creditaccount_change", args=[account.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust credits of {account.user}",
            "account": account,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/adjust.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(RecordAdmin):
    list_display = ["created_at", "account", "kind", "amount", "balance_after"]
    list_filter = ["kind"]
    search_fields = ["account__user__username", "idempotency_key", "description"]
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]


@admin.register(Purchase)
class PurchaseAdmin(RecordAdmin):
    """What was bought, as Stripe's webhooks recorded it; refunds are made in
    Stripe's dashboard and arrive here by webhook."""

    list_display = [
        "created_at",
        "user",
        "pack",
        "credits_shown",
        "amount_cents",
        "status",
        "paid_at",
    ]
    list_filter = ["status", "pack"]
    search_fields = [
        "user__username",
        "user__email",
        "checkout_session_id",
        "payment_intent_id",
    ]
    readonly_fields = [f.name for f in Purchase._meta.fields]

    @admin.display(description="credits", ordering="credits")
    def credits_shown(self, purchase) -> str:
        return f"{purchase.credits / MILLI:g}"


class PromoCodeForm(forms.ModelForm):
    """A code's credits typed as credits (5, 2.5), kept in milli-credits."""

    credits = credits_field("Credits each person who redeems it gets.")

    class Meta:
        model = PromoCode
        fields = ["code", "credits", "expires_at", "max_redemptions", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["credits"].initial = Decimal(self.instance.amount) / MILLI

    def clean_code(self) -> str:
        return services.promo_code_normalize(self.cleaned_data["code"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("credits") is not None:
            self.instance.amount = services.to_millicredits(cleaned["credits"])
        return cleaned


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    """Staff create codes people redeem on the Credits page or over the API.
    A redeemed code keeps its code; a change of its credits applies to later
    redemptions only (the ledger keeps what each person got). To end it
    early, set an expiry in the past."""

    form = PromoCodeForm
    list_display = [
        "code",
        "credits_shown",
        "redeemed",
        "max_redemptions",
        "expires_at",
        "created_at",
    ]
    search_fields = ["code", "description"]
    readonly_fields = ["redeemed", "created_by", "created_at"]

    @admin.display(description="credits", ordering="amount")
    def credits_shown(self, promo) -> str:
        return f"{promo.amount / MILLI:g}"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.redeemed:
            return [*self.readonly_fields, "code"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        # Redemptions point at it (and the ledger at them): end it instead.
        return obj is None or not obj.redeemed

    def save_model(self, request, obj, form, change):
        services.promo_code_save(promo=obj, staff=request.user)


@admin.register(PromoRedemption)
class PromoRedemptionAdmin(RecordAdmin):
    list_display = ["created_at", "promo", "user", "entry"]
    search_fields = ["promo__code", "user__username", "user__email"]
    readonly_fields = ["promo", "user", "entry", "created_at"]
