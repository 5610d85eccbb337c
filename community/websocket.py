"""Origin checking for websockets."""

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """Rejects a websocket whose Origin header names a host not in ALLOWED_HOSTS.

    Unlike Channels' AllowedHostsOriginValidator it admits connections with no
    Origin at all: browsers always send one, so cross-site websocket hijacking
    (the attack this check stops) cannot come without it, while programs that
    authenticate with a header usually send none.
    """

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def BrowserOriginValidatorStack(inner):  # noqa: N802 (named like Channels' stacks)
    allowed_hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(inner, allowed_hosts)
