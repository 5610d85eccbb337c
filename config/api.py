"""API-wide pieces shared by every app's endpoints."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Every list is paginated: `?page=2&page_size=50` (at most 100)."""

    page_size_query_param = "page_size"
    max_page_size = 100


def raise_as_drf(error: DjangoValidationError):
    """Re-raise a service's ValidationError as the API's 400 with field messages
    (services name fields after their arguments, as the API does)."""
    if hasattr(error, "error_dict"):
        detail = dict(error.message_dict)
        # Django's key for errors of no one field; DRF's name for them.
        if "__all__" in detail:
            detail["non_field_errors"] = detail.pop("__all__")
    else:
        detail = {"non_field_errors": error.messages}
    raise ValidationError(detail) from error


def call_service(function, **kwargs):
    """Call a service, turning its ValidationError into a 400 with field
    messages and its PermissionDenied into a 403 with its message."""
    try:
        return function(**kwargs)
    except DjangoValidationError as error:
        raise_as_drf(error)
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None
