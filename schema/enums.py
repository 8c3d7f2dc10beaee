"""The API's enums: the very Python enums the models and the policy use, registered with Strawberry."""

import strawberry

from models import enums as m
from permissions.catalog import Permission as _Permission
from permissions.principal import PrincipalKind as _PrincipalKind
from resolvers.errors import ErrorCode as _ErrorCode

Permission = strawberry.enum(
    _Permission,
    description=(
        "A fine-grained permission. ORG-WIDE ones are held only through a permission group that is not "
        "restricted to some locations (or through administration access); all others are held per location."
    ),
)
ErrorCode = strawberry.enum(_ErrorCode)
PrincipalKind = strawberry.enum(_PrincipalKind)
UserType = strawberry.enum(m.UserType)
AccountStatus = strawberry.enum(m.AccountStatus)
AccessStatus = strawberry.enum(m.AccessStatus)
BillingRole = strawberry.enum(m.BillingRole)
ProviderStatus = strawberry.enum(m.ProviderStatus)
ClientStatus = strawberry.enum(m.ClientStatus)
ClientSource = strawberry.enum(m.ClientSource)
HealthCardCheck = strawberry.enum(m.HealthCardCheck)
ActorKind = strawberry.enum(m.ActorKind)
ProxyRelationship = strawberry.enum(m.ProxyRelationship)
InvitationStatus = strawberry.enum(m.InvitationStatus)

EmailDelivery = strawberry.enum(m.EmailDelivery)
