"""The site's name in django.contrib.sites, which allauth's emails use
("[<name>] Please Confirm…", "Hello from <name>!"): kept equal to the host of
SITE_URL, so they never say Django's default example.com."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site
from django.db import DEFAULT_DB_ALIAS


def site_domain() -> str:
    """The host (and port) of SITE_URL, else the first allowed host that is
    a name rather than a pattern, else localhost."""
    domain = urlsplit(settings.SITE_URL).netloc
    if domain:
        return domain
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*" and not host.startswith("."):
            return host
    return "localhost"


def site_update(*, using: str = DEFAULT_DB_ALIAS) -> Site:
    """Point the current Site row at site_domain(), creating it if needed."""
    domain = site_domain()
    site, _created = Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": domain[:100], "name": domain[:50]},
    )
    # get_current_site() keeps the row per process: forget the old one.
    Site.objects.clear_cache()
    return site


def site_update_after_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs):
    """post_migrate: every `migrate` (make run, compose's one-off, the test
    database) brings the row in line with the settings of the moment."""
    site_update(using=using)
