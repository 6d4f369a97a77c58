"""A user's permissions kept in the default cache, so a request checks them without two queries.

Django's ModelBackend reads a user's permissions with two queries (their
own, their groups') once per user object, and a request's user is a new
object each time: every API list and detail paid them (the load benchmark,
docs/benchmarks.md, issue 13). This backend keeps each user's set in the
cache under a generation: a token that any change of permissions (a
permission, a group, or who is in which) replaces at the change, for the
changing transaction's own checks, and again once it commits, so an entry
written before the change is never read after it. Entries are also kept at
most AUTH_PERMISSION_CACHE_SECONDS (0: no cache).

The cache must be shared by every process that changes or checks
permissions (CACHE_URL), as the throttles' counts are; with a per-process
cache another process sees a change only when its entry expires.
Changes Django signals nothing about are seen when the entry expires too:
link rows written directly (`User.groups.through.objects...`, bulk_create,
raw SQL); the ORM's add, remove, set and clear, and saving or deleting a
group or a permission, are signalled.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "auth:permissions:generation"


class CachedPermissionsBackend(ModelBackend):
    """ModelBackend whose get_all_permissions comes from the cache while nothing about permissions changed."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        seconds = settings.AUTH_PERMISSION_CACHE_SECONDS
        if not seconds or obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = self._cached(user_obj, seconds)
        permissions: set[str] = user_obj._perm_cache
        return permissions

    def _cached(self, user: User, seconds: int) -> set[str]:
        # date_joined tells a new user from a deleted one whose id came back; is_superuser changes the set
        # (a superuser holds every permission) without any signal about permissions.
        key = f"auth:permissions:{user.pk}:{user.date_joined.timestamp()}:{int(user.is_superuser)}"
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        entry = found.get(key)
        if generation is not None and entry is not None and entry[0] == generation:
            return set(entry[1])
        if generation is None:
            fresh = uuid.uuid4().hex
            generation = fresh if cache.add(GENERATION_KEY, fresh, timeout=None) else cache.get(GENERATION_KEY)
        # Read after the generation: a change committed meanwhile replaces it, so this entry is never read.
        permissions = BaseBackend.get_all_permissions(self, user)
        if generation is not None:
            cache.set(key, (generation, frozenset(permissions)), seconds)
        return permissions


def permissions_changed() -> None:
    """Every cached set is stale: a new generation now, for this transaction's own checks, and again once it
    commits, for an entry another process wrote meanwhile from what the database held before the commit."""
    _generation_renew()
    transaction.on_commit(_generation_renew, robust=True)


def _generation_renew() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def _changed(**kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("post_"):
        permissions_changed()


def permission_cache_connect() -> None:
    """Renew the generation on every change of a permission, a group, or who holds which (the app's ready())."""
    links = (User.groups.through, User.user_permissions.through, Group.permissions.through)
    for link in links:
        m2m_changed.connect(_changed, sender=link, dispatch_uid=f"permission-cache-m2m-{link.__name__}")
    # Django sends no save or delete signal for the link rows themselves (auto-created models).
    for model in (Group, Permission):
        post_save.connect(_changed, sender=model, dispatch_uid=f"permission-cache-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"permission-cache-delete-{model.__name__}")
