"""core.permission_cache: a user's permissions from the cache, and every change of them seen at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache

from core.permission_cache import GENERATION_KEY

PERM = "emails.view_all_messages"


def _fresh(user: User) -> User:
    """The user as a new request sees them: a new object, with nothing remembered on it."""
    return User.objects.get(pk=user.pk)


def _perm() -> Permission:
    return Permission.objects.get(content_type__app_label="emails", codename="view_all_messages")


@pytest.mark.django_db
def test_a_second_request_reads_no_permission_query(user: Any, django_assert_num_queries: Any) -> None:
    assert not _fresh(user).has_perm(PERM)
    again = _fresh(user)
    with django_assert_num_queries(0):
        assert not again.has_perm(PERM)
        assert again.get_all_permissions() == set()


@pytest.mark.django_db
def test_a_granted_permission_is_seen_by_the_next_check(user: Any) -> None:
    assert not _fresh(user).has_perm(PERM)
    user.user_permissions.add(_perm())
    assert _fresh(user).has_perm(PERM)
    user.user_permissions.remove(_perm())
    assert not _fresh(user).has_perm(PERM)


@pytest.mark.django_db
def test_group_permissions_and_membership_changes_are_seen(user: Any) -> None:
    group = Group.objects.create(name="auditors")
    user.groups.add(group)
    assert not _fresh(user).has_perm(PERM)
    group.permissions.add(_perm())
    assert _fresh(user).has_perm(PERM)
    user.groups.clear()
    assert not _fresh(user).has_perm(PERM)
    user.groups.add(group)
    assert _fresh(user).has_perm(PERM)
    group.delete()
    assert not _fresh(user).has_perm(PERM)


@pytest.mark.django_db
def test_superuser_and_inactive_users_are_not_answered_from_a_stale_entry(user: Any) -> None:
    assert not _fresh(user).get_all_permissions()
    user.is_superuser = True
    user.save()
    assert PERM in _fresh(user).get_all_permissions()
    user.is_superuser = False
    user.save()
    assert not _fresh(user).get_all_permissions()
    user.user_permissions.add(_perm())
    assert _fresh(user).has_perm(PERM)
    user.is_active = False
    user.save()
    assert not _fresh(user).has_perm(PERM)


@pytest.mark.django_db
def test_a_new_user_with_a_deleted_users_id_gets_their_own_entry(user: Any) -> None:
    user.user_permissions.add(_perm())
    assert _fresh(user).has_perm(PERM)
    pk = user.pk
    User.objects.filter(pk=pk).delete()
    # SQLite may give the id again; the entry was the old user's.
    newcomer = User.objects.create_user(username="newcomer", pk=pk)
    assert not _fresh(newcomer).has_perm(PERM)


@pytest.mark.django_db
def test_the_generation_is_renewed_again_when_the_change_commits(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Another process may read the old rows between the change and its commit, and write them under the
    # generation renewed at the change: the commit renews it again, so that entry is never read.
    _fresh(user).has_perm(PERM)
    with django_capture_on_commit_callbacks(execute=True):
        user.user_permissions.add(_perm())
        at_change = cache.get(GENERATION_KEY)
    assert cache.get(GENERATION_KEY) not in (None, at_change)


@pytest.mark.django_db
def test_zero_seconds_reads_the_database_each_time(user: Any, settings: Any, django_assert_num_queries: Any) -> None:
    settings.AUTH_PERMISSION_CACHE_SECONDS = 0
    _fresh(user).has_perm(PERM)
    again = _fresh(user)
    with django_assert_num_queries(2):
        assert not again.has_perm(PERM)
