"""API-wide pieces shared by every app's endpoints."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Every list is paginated: `?page=2&page_size=50` (at most 100)."""

    page_size_query_param = "page_size"
    max_page_size = 100
