"""The API's enums: the very Python enums the models and the policy use, registered with Strawberry.

`strawberry.enum` registers a class in place (it hands back the same class), so a schema module
imports an enum from where it is declared (models/enums.py, permissions/, resolvers/errors.py) and
gets the registered one: there is one way to expose an enum, and no second name for it here.
schema/__init__.py imports this module before any type, so no type meets an unregistered enum.
"""

import strawberry

from models import enums as m
from permissions.catalog import Permission
from permissions.principal import PrincipalKind
from resolvers.errors import ErrorCode

# Exposed as they are: their own names and values, no description.
EXPOSED = (
    ErrorCode,
    PrincipalKind,
    m.UserType,
    m.AccountStatus,
    m.AccessStatus,
    m.BillingRole,
    m.ProviderStatus,
    m.ClientStatus,
    m.ClientSource,
    m.HealthCardCheck,
    m.ActorKind,
    m.ProxyRelationship,
    m.InvitationStatus,
    m.EmailDelivery,
)

strawberry.enum(
    Permission,
    description=(
        "A fine-grained permission. ORG-WIDE ones are held only through a permission group that is not "
        "restricted to some locations (or through administration access); all others are held per location."
    ),
)
for _enum in EXPOSED:
    strawberry.enum(_enum)
