"""The one place the process environment is read (django-environ).

Every variable has a default that works for the embedded set-up; each is listed
in `.env.example` and in the README's configuration table.
"""

from functools import cache
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


@cache
def database_url() -> str:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL, started on demand."""
    url = env.str("DATABASE_URL", default="")
    if url:
        return url
    from config import embedded_db

    return embedded_db.ensure_running(env.str("EMBEDDED_DB_DIR", default="") or None)


def redis_url() -> str:
    """REDIS_URL, or "" for the no-services default (PostgreSQL does Redis's jobs)."""
    return env.str("REDIS_URL", default="")
