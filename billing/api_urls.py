from django.urls import path

from billing import api

urlpatterns = [
    path("credits/balance/", api.BalanceView.as_view(), name="credits-balance"),
    path("credits/history/", api.HistoryView.as_view(), name="credits-history"),
    path("pricing/", api.PricingView.as_view(), name="pricing"),
]
