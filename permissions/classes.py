"""Strawberry permission classes, declared beside each field with `requires(...)`.

`requires` also appends "Requires: ..." to the field's description, so the exported schema tells
callers what each field needs. A denial raises the contract's top-level error (UNAUTHENTICATED,
PASSWORD_RESET_REQUIRED or FORBIDDEN) rather than Strawberry's generic one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from permissions.catalog import ORG_WIDE, Permission
from permissions.errors import forbidden


class _Access(BasePermission):
    """Configured per field by `requires`; see there."""

    permissions: tuple[Permission, ...] = ()
    allow_locked = False
    allow_reset = False
    message = "You do not have permission to do this."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        ctx = info.context
        principal = await ctx.require_principal(allow_locked=self.allow_locked, allow_reset=self.allow_reset)
        for permission in self.permissions:
            held = (
                principal.grants.has(permission)
                if permission in ORG_WIDE
                else principal.grants.has_anywhere(permission)
            )
            if not held:
                raise forbidden(f"This needs the {permission.value} permission.")
        return True


@cache
def _access_class(permissions: tuple[Permission, ...], allow_locked: bool, allow_reset: bool) -> type[BasePermission]:
    name = (
        "Requires" + "".join(p.value.title().replace("_", "") for p in permissions) if permissions else "Authenticated"
    )
    return type(
        name, (_Access,), {"permissions": permissions, "allow_locked": allow_locked, "allow_reset": allow_reset}
    )


def describe(permissions: tuple[Permission, ...]) -> str:
    if not permissions:
        return "Requires: an authenticated session."
    parts = [
        f"{p.value} (organization-wide)" if p in ORG_WIDE else f"{p.value} (at some location; rows are scoped)"
        for p in permissions
    ]
    return "Requires: " + ", ".join(parts) + "."


def requires(
    *permissions: Permission,
    description: str | None = None,
    allow_locked: bool = False,
    allow_reset: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for `strawberry.field`/`strawberry.mutation`: the permission class and the
    description that documents it. Without permissions: any authenticated, unlocked session."""
    text = describe(tuple(permissions))
    return {
        "permission_classes": [_access_class(tuple(permissions), allow_locked, allow_reset)],
        "description": f"{description}\n\n{text}" if description else text,
    }


def public(description: str) -> dict[str, Any]:
    """A field anyone may call (the authentication mutations)."""
    return {"description": f"{description}\n\nRequires: nothing (no token needed)."}
