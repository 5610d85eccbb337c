from django.urls import path

from billing import views, views_checkout

app_name = "billing"

urlpatterns = [
    path("credits/", views.credits_page, name="credits"),
    path("credits/checkout/", views_checkout.checkout_start, name="checkout"),
    path(
        "credits/checkout/success/",
        views_checkout.checkout_success,
        name="checkout-success",
    ),
    path(
        "credits/checkout/cancelled/",
        views_checkout.checkout_cancelled,
        name="checkout-cancelled",
    ),
    path("credits/portal/", views_checkout.portal, name="portal"),
    path("credits/threshold/", views.credits_threshold, name="credits-threshold"),
    path("credits/redeem/", views.credits_redeem, name="redeem"),
]
