"""The foreign key to the tenant, declared by every tenant model in one line.

Every row belongs to one organization (docs/architecture.md, "Data"): the key is never nullable and
never cascades, only its reverse name differs (False: no reverse relation on `Organization`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from tortoise import fields

if TYPE_CHECKING:
    from models.organization import Organization


def organization_fk(related_name: str | Literal[False] = False) -> fields.ForeignKeyRelation[Organization]:
    return fields.ForeignKeyField("models.Organization", related_name=related_name, on_delete=fields.RESTRICT)
