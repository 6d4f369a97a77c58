"""The seeds' page of a list: `data.<items>: [...]` beside `data.pagination: {page, limit, total, pages}`."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from core.rest.envelope import ok

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _number(value: str | None, default: int) -> int:
    try:
        return max(int(value or default), 1)
    except ValueError:
        return default


class SeedsPagination(BasePagination):
    """Pages as the seeds' clients read them; a page past the last answers the last one.

    The view validates `page` and `limit` with the rest of its query first
    (a bad one is a 400 on its field), and names the list's key in
    `items_key` ("emails", "files", ...).
    """

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        limit = min(_number(request.query_params.get("limit"), DEFAULT_LIMIT), MAX_LIMIT)
        self.key = str(getattr(view, "items_key", "results"))
        self.page: Page[Any] = Paginator(queryset, limit).get_page(_number(request.query_params.get("page"), 1))
        return list(self.page.object_list)

    def get_paginated_response(self, data: Any, *, message: str | None = None, **extra: Any) -> Response:
        paginator = self.page.paginator
        pagination = {"page": self.page.number, "limit": paginator.per_page, "total": paginator.count,
                      "pages": paginator.num_pages}  # fmt: skip
        return ok({self.key: data, "pagination": pagination, **extra}, message=message)


class SeedsPaginated:
    """For a viewset (GenericViewSet) whose list answers in the seeds' page envelope under `items_key`."""

    pagination_class: type[BasePagination] | None = SeedsPagination
    items_key = "results"
    paginator: Any

    def page_response(self, items: Any, *, message: str | None = None, **extra: Any) -> Response:
        pages: SeedsPagination = self.paginator
        return pages.get_paginated_response(items, message=message, **extra)
