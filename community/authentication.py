"""DRF authentication by personal API key: `Authorization: Bearer <key>`."""

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from community import selectors, services


def bearer_key_from_header(header: bytes) -> str | None:
    """The key in an `Authorization: Bearer <key>` header, "" if malformed, None
    if the header is absent or of another scheme."""
    parts = header.split()
    if not parts or parts[0].lower() != b"bearer":
        return None
    if len(parts) != 2:
        return ""
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        return ""


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        key = bearer_key_from_header(get_authorization_header(request))
        if key is None:
            return None
        if not key:
            raise AuthenticationFailed(
                _("Malformed Authorization header: use 'Bearer <key>'.")
            )
        api_key = selectors.api_key_get_usable(key=key)
        if api_key is None:
            raise AuthenticationFailed(_("Invalid, expired or revoked API key."))
        services.api_key_mark_used(api_key=api_key)
        # Rate limits count this key's actions apart from its owner's others.
        from config import throttles

        throttles.use_api_key(api_key.pk)
        return (api_key.user, api_key)

    def authenticate_header(self, request) -> str:
        # Makes unauthenticated requests answer 401 (with this challenge), not 403.
        return 'Bearer realm="api"'
