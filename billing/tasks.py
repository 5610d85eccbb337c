from celery import shared_task

from billing import services


@shared_task(name="billing.credits_expire")
def credits_expire_task() -> int:
    """Expire unused credits past their date (billing.services.credits_expire)."""
    return services.credits_expire()
