"""The caller of a request: a staff user with a session (portal accounts and integrations later)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from models.organization import Organization
from models.sessions import Session
from models.users import User
from permissions.grants import ALL, Grants, Scope


class PrincipalKind(str, Enum):
    USER = "USER"
    PORTAL_ACCOUNT = "PORTAL_ACCOUNT"
    INTEGRATION = "INTEGRATION"


@dataclass
class Principal:
    kind: PrincipalKind
    organization: Organization
    grants: Grants
    user: User | None = None
    session: Session | None = None
    # Where the principal works (ALL or location ids): the location scoping rule reads it.
    sites: Scope = ALL
    locked: bool = False
    password_reset_required: bool = False

    @property
    def organization_id(self) -> str:
        return str(self.organization.id)

    @property
    def actor_id(self) -> str | None:
        return str(self.user.id) if self.user else None

    @property
    def actor_name(self) -> str | None:
        return self.user.display_name if self.user else None
