"""Credits."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env

# A run's budget when its starter sets none: the most it may spend (it is
# stopped, "out of credits", when it has spent it).
CREDITS_RUN_BUDGET = env.str("CREDITS_RUN_BUDGET", default="25")
# "metered" (the default): runs hold and spend credits. "off", for a private
# install: nothing is held or charged, and no page speaks of credits.
CREDITS_MODE = env.str("CREDITS_MODE", default="metered")
if CREDITS_MODE not in ("metered", "off"):
    raise ImproperlyConfigured(
        f"CREDITS_MODE is {CREDITS_MODE!r}; it must be metered or off."
    )
