"""Credits."""

from config.env import env

# A run's budget when its starter sets none: the credits it holds while it
# runs (it is stopped, "out of credits", when it has spent them).
CREDITS_RUN_BUDGET = env.str("CREDITS_RUN_BUDGET", default="25")
