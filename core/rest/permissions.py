"""Permission classes that say who may call an endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def staff_with(codename: str) -> type[BasePermission]:
    """Staff who also hold the Django permission `codename`: the global lists are not for plain users."""

    class StaffWithPermission(BasePermission):
        message = "Staff with the permission to do this only."

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.is_staff and user.has_perm(codename))

    StaffWithPermission.__name__ = f"StaffWith_{codename.replace('.', '_')}"
    return StaffWithPermission


def action_permissions(by_action: dict[str, str], *, default: str) -> type[BasePermission]:
    """Signed-in users holding the Django permission each viewset action names (`default` for the others)."""

    class ActionPermission(BasePermission):
        message = "You do not have the permission to do this."

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            codename = by_action.get(getattr(view, "action", "") or "", default)
            return bool(user and user.is_authenticated and user.has_perm(codename))

    return ActionPermission
