"""The caller of a request: a staff user with a session, a portal account with a portal session, or
an integration with an API token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from models.integrations import ApiToken, Integration
from models.organization import Organization
from models.portal import PortalAccount, PortalSession
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
    # A portal account holds no grants: it sees the clients it is linked to (`client_ids`), their
    # basic fields only (docs/architecture.md "Principals and grants").
    portal_account: PortalAccount | None = None
    portal_session: PortalSession | None = None
    client_ids: frozenset[str] = frozenset()
    # An integration holds its own permissions at its own locations (permissions/grants.py).
    integration: Integration | None = None
    api_token: ApiToken | None = None

    @property
    def is_portal(self) -> bool:
        return self.kind is PrincipalKind.PORTAL_ACCOUNT

    @property
    def is_token(self) -> bool:
        return self.kind is PrincipalKind.INTEGRATION

    @property
    def organization_id(self) -> str:
        return str(self.organization.id)

    @property
    def actor_id(self) -> str | None:
        if self.portal_account is not None:
            return str(self.portal_account.id)
        if self.integration is not None:
            return str(self.integration.id)
        return str(self.user.id) if self.user else None

    @property
    def actor_name(self) -> str | None:
        if self.portal_account is not None:
            return self.portal_account.display_name
        if self.integration is not None:
            # Which token acted, by its prefix: a leaked secret can be told from its siblings.
            prefix = f" ({self.api_token.prefix}…)" if self.api_token is not None else ""
            return self.integration.name + prefix
        return self.user.display_name if self.user else None
