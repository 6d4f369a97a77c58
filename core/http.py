"""Small helpers for pages that read query strings."""

from __future__ import annotations

from django.http import QueryDict


def query_without_blanks(data: QueryDict) -> QueryDict:
    """The query string without empty values (what a GET form sends for "any"), so links built from it stay short."""
    query = QueryDict(mutable=True)
    for key, values in data.lists():
        kept = [value for value in values if value.strip()]
        if kept:
            query.setlist(key, kept)
    return query
