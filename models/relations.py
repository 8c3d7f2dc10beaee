"""The foreign keys that many models declare, each in one line with its delete rule decided once.

Every row belongs to one organization (docs/architecture.md, "Data"): that key is never nullable and
never cascades, only its reverse name differs (False: no reverse relation on `Organization`). The
rows that only hang off a user or a permission group (sessions, tokens, site links, memberships)
go with it; a location is never deleted from under the rows that point at it (locations are
deactivated, not deleted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from tortoise import fields

if TYPE_CHECKING:
    from models.groups import PermissionGroup
    from models.organization import Location, Organization
    from models.users import User


def organization_fk(related_name: str | Literal[False] = False) -> fields.ForeignKeyRelation[Organization]:
    return fields.ForeignKeyField("models.Organization", related_name=related_name, on_delete=fields.RESTRICT)


def user_fk(related_name: str) -> fields.ForeignKeyRelation[User]:
    return fields.ForeignKeyField("models.User", related_name=related_name, on_delete=fields.CASCADE)


def permission_group_fk(related_name: str) -> fields.ForeignKeyRelation[PermissionGroup]:
    return fields.ForeignKeyField("models.PermissionGroup", related_name=related_name, on_delete=fields.CASCADE)


def location_fk(related_name: str) -> fields.ForeignKeyRelation[Location]:
    return fields.ForeignKeyField("models.Location", related_name=related_name, on_delete=fields.RESTRICT)
