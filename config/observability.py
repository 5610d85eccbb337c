"""Error reporting to Sentry (or any service that takes a Sentry DSN, such as
GlitchTip), switched on by SENTRY_DSN. Without it nothing is imported and
nothing leaves the machine."""

from __future__ import annotations


def init_sentry(
    dsn: str, *, environment: str = "production", traces_sample_rate: float = 0.0
) -> None:
    """Report unhandled errors in requests, Celery tasks and logs to ``dsn``.
    No personal data is sent (no cookies, user fields or request bodies)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
    )
