from celery import shared_task

from billing import notifications, payments, services


@shared_task(name="billing.credits_expire")
def credits_expire_task() -> int:
    """Expire unused credits past their date (billing.services.credits_expire)."""
    return services.credits_expire()


@shared_task(name="billing.low_balance_email")
def low_balance_email_task(account_id: int) -> bool:
    """Email that the balance fell below the account's warning threshold
    (queued by billing.services when a charge crosses it)."""
    return notifications.low_balance_email_send(account_id=account_id)


@shared_task(name="billing.yearly_allocations")
def yearly_allocations_task() -> int:
    """Give yearly subscribers each month's credits as the month comes
    (billing.payments.yearly_allocations); idempotent, so safe hourly."""
    return payments.yearly_allocations()
