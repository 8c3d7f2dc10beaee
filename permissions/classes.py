"""Strawberry permission classes, declared beside each field with `requires(...)`.

`requires` also appends "Requires: ..." to the field's description, so the exported schema tells
callers what each field needs. A denial raises the contract's top-level error (UNAUTHENTICATED,
PASSWORD_RESET_REQUIRED or FORBIDDEN) rather than Strawberry's generic one.
"""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from permissions.catalog import ORG_WIDE, Permission
from permissions.errors import forbidden


class GrantEffect(str, Enum):
    """What a mutation does to someone's grants (docs/architecture.md, "No escalation"). Every
    mutation declares its effects beside its permission (`requires(..., effects=...)`), and a test
    fails when one declares none, so a new mutation cannot forget which check it owes:
    ADDS compares the target's grants before and after (`excess_grants`), RESTORES and HANDS_OVER
    need the target's configured grants within the actor's (`check_restore`, `check_takeover`);
    every one but NONE takes the organization's grant lock first (`resolvers.admins.lock_grants`)."""

    NONE = "none"
    ADDS = "adds grants"
    RESTORES = "restores grants"
    HANDS_OVER = "hands over credentials"


EFFECTS_KEY = "grant_effects"
# An authentication mutation (one that checks a password, PIN or link): a document may hold only
# one (schema/limits.py reads this marker from the schema, so the limit knows no name by hand).
AUTHENTICATES_KEY = "authenticates"
# A field anyone may call, without a session (`public`); the permission matrix reads it.
PUBLIC_KEY = "public"
# A field a portal account may call (`requires(..., portal=True)`); the permission matrix reads it.
PORTAL_KEY = "portal"
# A field an API token may call (`requires(..., tokens=...)`); the permission matrix reads it.
TOKENS_KEY = "tokens"


def _declared(effects: tuple[GrantEffect, ...] | None, **markers: bool) -> dict[str, Any]:
    """The field's metadata: its grant effects (none for a query) and its true markers."""
    metadata: dict[str, Any] = {key: True for key, on in markers.items() if on}
    if effects is not None:
        metadata[EFFECTS_KEY] = frozenset(effects)
    return {"metadata": metadata} if metadata else {}


def _effects_text(effects: tuple[GrantEffect, ...] | None) -> str:
    if not effects or effects == (GrantEffect.NONE,):
        return ""
    return " Grant effect: " + ", ".join(e.value for e in effects) + " (never beyond the caller's own grants)."


class _Access(BasePermission):
    """Configured per field by `requires`; see there."""

    permissions: tuple[Permission, ...] = ()
    any_of = False
    allow_locked = False
    allow_reset = False
    portal = False
    tokens = False
    message = "You do not have permission to do this."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        ctx = info.context
        principal = await ctx.require_principal(allow_locked=self.allow_locked, allow_reset=self.allow_reset)
        if principal.is_portal and not self.portal:
            raise forbidden("This is for clinic staff, not for portal accounts.")
        if principal.is_token and not self.tokens:
            raise forbidden("This needs a staff session: an API token cannot call it.")
        held = [principal.grants.allows(permission) for permission in self.permissions]
        if self.any_of and self.permissions and not any(held):
            names = " or ".join(p.value for p in self.permissions)
            raise forbidden(f"This needs the {names} permission.")
        for permission, ok in zip(self.permissions, held, strict=True):
            if not ok and not self.any_of:
                raise forbidden(f"This needs the {permission.value} permission.")
        return True


@cache
def _access_class(
    permissions: tuple[Permission, ...],
    allow_locked: bool,
    allow_reset: bool,
    any_of: bool = False,
    portal: bool = False,
    tokens: bool = False,
) -> type[BasePermission]:
    joiner = "Or" if any_of else ""
    name = (
        (
            "Requires" + joiner.join(p.value.title().replace("_", "") for p in permissions)
            if permissions
            else "Authenticated"
        )
        + ("OrPortal" if portal else "")
        + ("OrToken" if tokens else "")
    )
    return type(
        name,
        (_Access,),
        {
            "permissions": permissions,
            "any_of": any_of,
            "allow_locked": allow_locked,
            "allow_reset": allow_reset,
            "portal": portal,
            "tokens": tokens,
        },
    )


def describe(permissions: tuple[Permission, ...], any_of: bool = False) -> str:
    if not permissions:
        return "Requires: an authenticated session."
    parts = [
        f"{p.value} (organization-wide)" if p in ORG_WIDE else f"{p.value} (at some location; rows are scoped)"
        for p in permissions
    ]
    if any_of and len(parts) > 1:
        return "Requires: one of " + " or ".join(parts) + " (each field given needs its own)."
    return "Requires: " + ", ".join(parts) + "."


def requires(
    *permissions: Permission,
    description: str | None = None,
    allow_locked: bool = False,
    allow_reset: bool = False,
    effects: tuple[GrantEffect, ...] | None = None,
    authenticates: bool = False,
    any_of: bool = False,
    portal: bool = False,
    tokens: bool | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `strawberry.field`/`strawberry.mutation`: the permission class and the
    description that documents it (a mutation also declares its grant `effects`, and whether it is
    an authentication mutation). Without permissions: any authenticated, unlocked session.

    `any_of`: one of the permissions is enough to call it, for a mutation whose fields each need
    their own (updateProvider: profile fields PROVIDERS_MANAGE, billing numbers BILLING_MANAGE);
    the resolver then asks for each field's permission where it applies.

    `portal`: a portal account may call it too (it holds no permission, so only a field that needs
    none); every other field answers FORBIDDEN to a portal account, which is for clinic staff.

    `tokens`: whether an API token may call it. By default, a field that needs a permission and adds
    to, restores or hands over nobody's grants (effects NONE, or a query): a token acts by its
    permissions (which may narrow access, e.g. disabling a leaver's), never adds to anyone's, and never
    acts on a staff session's own things (its sessions, password, PIN, profile, "My Clients")."""
    if tokens is None:
        tokens = bool(permissions) and set(effects or ()) <= {GrantEffect.NONE}
    text = describe(tuple(permissions), any_of) + _effects_text(effects)
    if portal:
        text += " Portal accounts may call it too."
    if not tokens:
        text += " Not for API tokens."
    return {
        "permission_classes": [_access_class(tuple(permissions), allow_locked, allow_reset, any_of, portal, tokens)],
        "description": f"{description}\n\n{text}" if description else text,
        **_declared(effects, **{AUTHENTICATES_KEY: authenticates, PORTAL_KEY: portal, TOKENS_KEY: tokens}),
    }


def public(
    description: str, effects: tuple[GrantEffect, ...] | None = None, authenticates: bool = False
) -> dict[str, Any]:
    """A field anyone may call (logging in, opening a link)."""
    return {
        "description": f"{description}\n\nRequires: nothing (no token needed).",
        **_declared(effects, **{PUBLIC_KEY: True, AUTHENTICATES_KEY: authenticates}),
    }


def signs_in(description: str) -> dict[str, Any]:
    """A public mutation that opens a session (logging in, signing up, accepting a link): it adds to
    nobody's grants (the session holds what its user or account already holds) and it is an
    authentication attempt, which the document limits allow once a request (schema/limits.py)."""
    return public(description, effects=(GrantEffect.NONE,), authenticates=True)
