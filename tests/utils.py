"""Helpers shared by tests."""

from __future__ import annotations

from urllib.parse import quote


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for a Django connection's settings (unix socket or TCP)."""
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    # django-environ puts a unix-socket directory in OPTIONS["host"].
    host = settings_dict.get("HOST") or settings_dict.get("OPTIONS", {}).get("host", "")
    port = settings_dict.get("PORT") or ""
    name = settings_dict["NAME"]
    if host.startswith("/"):
        return f"postgresql://{credentials}/{name}?host={host}"
    location = f"{host}:{port}" if port else host
    return f"postgresql://{credentials}{location}/{name}"
