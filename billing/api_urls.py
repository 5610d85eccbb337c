from django.urls import path

from billing import api, api_payments, api_usage

urlpatterns = [
    path("credits/balance/", api.BalanceView.as_view(), name="credits-balance"),
    path("credits/history/", api.HistoryView.as_view(), name="credits-history"),
    path("credits/usage/", api_usage.UsageView.as_view(), name="credits-usage"),
    path("credits/redeem/", api.RedeemView.as_view(), name="credits-redeem"),
    path("pricing/", api.PricingView.as_view(), name="pricing"),
    path(
        "credits/purchase/",
        api_payments.PurchaseCreditsView.as_view(),
        name="credits-purchase",
    ),
    path(
        "payments/create-checkout-session/",
        api_payments.CreateCheckoutSessionView.as_view(),
        name="payments-checkout-session",
    ),
    path("payments/portal/", api_payments.PortalView.as_view(), name="payments-portal"),
    path(
        "payments/subscription/",
        api_payments.SubscriptionView.as_view(),
        name="payments-subscription",
    ),
    path(
        "payments/purchases/",
        api_payments.PurchaseListView.as_view(),
        name="payments-purchases",
    ),
]
