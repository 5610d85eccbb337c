"""API-wide pieces shared by every app's endpoints."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Every list is paginated: `?page=2&page_size=50` (at most 100)."""

    page_size_query_param = "page_size"
    max_page_size = 100


class CountedRowsPaginator(Paginator):
    """Pages of rows that each end with the length of the whole list (a
    ``COUNT(*) OVER ()`` column): the page's query gives the count, so none
    is run of its own. Past the last page, where no row carries it, the count
    is asked for as usual and Django's own errors follow."""

    def page(self, number):
        if "count" in self.__dict__ or self.orphans:
            return super().page(number)
        number = self.validate_number_before_counting(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if not rows and number > 1:
            return super().page(number)
        self.count = rows[0][-1] if rows else 0
        return self._get_page(rows, number, self)

    def get_page(self, number):
        """Paginator.get_page (not a number: the first page; below 1 or past
        the end: the last), counting only when the page holds no row."""
        try:
            number = self.validate_number_before_counting(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages
        try:
            return self.page(number)
        except EmptyPage:
            return self.page(self.num_pages)

    def validate_number_before_counting(self, number) -> int:
        """Paginator.validate_number's checks that need no count."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class CountedRowsPagination(Pagination):
    """Pagination (same parameters and page shape) over rows that carry the
    list's length in their last column; see CountedRowsPaginator."""

    django_paginator_class = CountedRowsPaginator


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


def refuse_nul_characters(data) -> None:
    """A 400 naming each field whose text holds a NUL character, which
    PostgreSQL cannot store in a text column (the insert would fail with a
    500). Checked once where bodies are parsed, for every endpoint, whether
    or not its serializer's CharFields would also catch it."""
    fields: dict[str, list[str]] = {}

    def walk(value, field: str) -> None:
        if isinstance(value, str):
            if "\x00" in value:
                fields[field] = [_("Text may not contain NUL (\\u0000) characters.")]
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key, field)
                walk(item, field)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, field)

    if hasattr(data, "lists"):  # a QueryDict: every value of every key
        data = dict(data.lists())
    if isinstance(data, dict):
        for key, value in data.items():
            field = key if isinstance(key, str) and "\x00" not in key else None
            walk(value, field or "non_field_errors")
            if field is None:
                fields.setdefault(
                    "non_field_errors",
                    [_("Field names may not contain NUL (\\u0000) characters.")],
                )
    else:
        walk(data, "non_field_errors")
    if fields:
        raise ValidationError(fields)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul_characters(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul_characters(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        refuse_nul_characters(parsed.data)
        return parsed
