"""Every route of the URL conf, walked from django.urls.get_resolver(): its name, its path and its methods."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the path itself when the route has no name
    path: str  # the pattern as written, prefixes included
    callback: Any
    params: tuple[str, ...]
    named: bool  # reverse() finds it by key

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/") and not self.path.startswith(("api/schema", "api/docs"))

    @property
    def methods(self) -> tuple[str, ...]:
        """What the view answers: a viewset's actions, a class's handlers; a function: GET and POST."""
        actions = getattr(self.callback, "actions", None)
        if actions:
            return tuple(m for m in METHODS if m in actions)
        view_class = getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)
        if view_class is not None:
            return tuple(m for m in METHODS if hasattr(view_class, m))
        return ("get", "post")


def routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ()))


def _walk(patterns: list[Any], prefix: str, namespaces: tuple[str, ...]) -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = (*namespaces, p.namespace) if p.namespace else namespaces
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            path = prefix + str(p.pattern)
            key = ":".join((*namespaces, p.name)) if p.name else path
            params = tuple(p.pattern.regex.groupindex)
            yield Route(key=key, path=path, callback=p.callback, params=params, named=bool(p.name))
