"""Kinds of domain error: what went wrong, in terms a caller can act on, never an HTTP status.

Each app's exceptions subclass one of these kinds; `core.rest.errors` turns
a kind into an HTTP answer in one place, so no view translates errors itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

Path = tuple[str | int, ...]


class DomainError(Exception):
    """Base of the errors a caller can act on. Its message is fit to show the caller."""


class NotFound(DomainError):
    """No such thing, or not one this caller may see."""


class Forbidden(DomainError):
    """The caller may see the thing but not do this to it."""


class Conflict(DomainError):
    """The request clashes with the state it meets (a reused key, an upload not there yet)."""


class Unavailable(DomainError):
    """Something we depend on (SES, S3, SNS) cannot be reached now: try again later.

    Its message is for the log (it may hold an endpoint or a library's
    error); callers are told `public_message`.
    """

    public_message: ClassVar[str] = "A service this depends on is unavailable; try again shortly."


class Unprocessable(DomainError):
    """The request was understood and checked, and what it points at failed the check."""

    def __init__(self, message: str, *, path: Path = (), summary: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.summary = summary or message


@dataclass(frozen=True)
class FieldError:
    """One problem with one part of a request: where it is (a path of keys and indexes) and what it is.

    `code` names the rule, so a page can word it for people (it never names
    an API field) while the API keeps `message`.
    """

    path: Path
    message: str
    code: str = ""


class ValidationFailed(DomainError):
    """A request broke rules; carries every problem found, not just the first."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e.path)) or 'request'}: {e.message}" for e in errors))
        self.errors = list(errors)


class FieldErrors:
    """Collects problems while a request is checked, so all of them are reported at once."""

    def __init__(self, errors: Iterable[FieldError] = ()) -> None:
        self._errors: list[FieldError] = list(errors)

    def add(self, path: Path, message: str, code: str = "") -> None:
        self._errors.append(FieldError(path=path, message=message, code=code))

    def extend(self, errors: Iterable[FieldError], *, under: Path = ()) -> None:
        for error in errors:
            self._errors.append(FieldError(path=(*under, *error.path), message=error.message, code=error.code))

    def has(self, *prefix: str | int) -> bool:
        """Whether a problem was found at or under `prefix` (a field already wrong is not checked again)."""
        return any(e.path[: len(prefix)] == prefix for e in self._errors)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def __len__(self) -> int:
        return len(self._errors)

    def __iter__(self) -> Iterator[FieldError]:
        return iter(self._errors)

    def raise_any(self) -> None:
        if self._errors:
            raise ValidationFailed(self._errors)
