"""Reads of stored files, scoped to what the user may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet

from core.text import uuid_parse
from files.choices import FileStatus
from files.exceptions import FileNotFound
from files.models import File

VIEW_ALL_PERMISSION = "files.view_all_files"
MANAGE_ALL_PERMISSION = "files.manage_all_files"

SORT_FIELDS = {
    "fileName": "original_name",
    "size": "size",
    "createdAt": "created_at",
    "category": "category",
    "status": "status",
    "downloads": "download_count",
}


@dataclass(frozen=True)
class FileFilters:
    search: str = ""
    category: str = ""
    status: str = ""
    department_id: str = ""
    client_id: str = ""
    owner_id: int | None = None
    tag: str = ""
    sort_by: str = "createdAt"
    sort_order: str = "desc"


def files_visible_to(user: User | AnonymousUser) -> QuerySet[File]:
    """Files a user lists and manages: their own; staff with the permission see everyone's."""
    if not user.is_authenticated:
        return File.objects.none()
    if user.has_perm(VIEW_ALL_PERMISSION):
        return File.objects.all()
    return File.objects.filter(owner=user)


def files_downloadable_by(user: User | AnonymousUser) -> QuerySet[File]:
    """Files a user may read: the visible ones, and anyone's completed public files."""
    if not user.is_authenticated:
        return File.objects.none()
    if user.has_perm(VIEW_ALL_PERMISSION):
        return File.objects.all()
    return File.objects.filter(Q(owner=user) | Q(is_public=True, status=FileStatus.COMPLETED))


def files_manageable_by(user: User | AnonymousUser) -> QuerySet[File]:
    """Files a user may delete: their own; staff with the manage permission, everyone's."""
    if not user.is_authenticated:
        return File.objects.none()
    if user.has_perm(MANAGE_ALL_PERMISSION):
        return File.objects.all()
    return File.objects.filter(owner=user)


def files_attachable(*, user: User | AnonymousUser) -> QuerySet[File]:
    """Files a user may attach to an email: their own or public ones, completed."""
    if not user.is_authenticated:
        return File.objects.none()
    return File.objects.filter(Q(owner=user) | Q(is_public=True), status=FileStatus.COMPLETED)


def file_list(*, user: User | AnonymousUser, filters: FileFilters) -> QuerySet[File]:
    """The user's files (all files with the permission), filtered and sorted; deleted ones only when asked for."""
    qs = files_visible_to(user)
    qs = qs.filter(status=filters.status) if filters.status else qs.exclude(status=FileStatus.DELETED)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.client_id:
        qs = qs.filter(client_id=filters.client_id)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag.strip().lower())
    if filters.search:
        term = filters.search.strip()
        match = Q(original_name__icontains=term) | Q(file_name__icontains=term) | Q(client_id=term)
        if (file_id := uuid_parse(term)) is not None:
            match |= Q(pk=file_id)
        qs = qs.filter(match)
    order = SORT_FIELDS.get(filters.sort_by, "created_at")
    prefix = "" if filters.sort_order == "asc" else "-"
    return qs.select_related("owner").prefetch_related("tags").order_by(f"{prefix}{order}", f"{prefix}pk")


def file_get(*, user: User | AnonymousUser, file_id: uuid.UUID) -> File:
    """One file the user may read (public files included); FileNotFound otherwise."""
    try:
        return files_downloadable_by(user).select_related("owner").prefetch_related("tags").get(pk=file_id)
    except File.DoesNotExist:
        raise FileNotFound("File not found") from None


# The department datalist names at most this many: the ones in use, most used first.
DEPARTMENTS_LISTED = 50


def file_departments(*, user: User | AnonymousUser) -> list[str]:
    """The department ids on the files a user can see, most used first: what the department fields offer."""
    rows = (
        files_visible_to(user)
        .exclude(department_id="")
        .values("department_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "department_id")
    )
    return [row["department_id"] for row in rows[:DEPARTMENTS_LISTED]]


def file_for_removal(*, user: User | AnonymousUser, file_id: uuid.UUID) -> File:
    """A file the user may delete and that is not deleted yet (the delete page's); FileNotFound otherwise."""
    try:
        return files_manageable_by(user).exclude(status=FileStatus.DELETED).get(pk=file_id)
    except File.DoesNotExist:
        raise FileNotFound("File not found") from None
