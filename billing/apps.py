from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Credits ledger, pricing, and Stripe through dj-stripe."""

    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Connect the handlers of Stripe's webhooks to dj-stripe's signals.
        from billing import webhooks  # noqa: F401
        from billing.metrics import credit_metrics, webhook_metrics
        from config.metrics import state_metrics_register

        state_metrics_register(credit_metrics)
        state_metrics_register(webhook_metrics)
