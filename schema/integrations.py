"""Partner integrations and their scoped API tokens: types, inputs and root fields (resolvers in
resolvers/integrations.py; the INTEGRATION principal in resolvers/integration_auth.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models.integrations import ApiToken as TokenRow
from models.integrations import IntegrationLocation
from models.organization import Location as LocationRow
from models.users import User as UserRow
from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires
from permissions.scoping import location_q, user_q
from resolvers import integrations
from resolvers.inputs import parse_uuid
from resolvers.integration_auth import known_permissions
from schema.auth import OkPayload
from schema.errors import Payload
from schema.grant_set_input import GrantSetChangesInput, GrantSetInput
from schema.info import Info
from schema.inputs import id_input
from schema.limits import ORGANIZATION_ROWS, OWN_ROWS, at_most
from schema.refusals import refuse_beside

if TYPE_CHECKING:
    from schema.organization import Location
    from schema.users import User


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The first characters, to recognise it.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


_MANAGE = Permission.INTEGRATIONS_MANAGE
TOKENS_DESCRIPTION = (
    "Newest first; the secrets are never shown again. Guarded: INTEGRATIONS_MANAGE; without it (an API "
    "token reading its own integration through `viewer`) empty and one FORBIDDEN error at its path."
)


@strawberry.type
class Integration:
    id: strawberry.ID
    name: str
    description: str | None
    all_locations: bool
    is_active: bool
    created_at: datetime

    @strawberry.field
    def permissions(self: Any) -> list[Permission]:
        return known_permissions(self.permissions)

    @strawberry.field(
        **at_most(OWN_ROWS, {"description": "Its locations that the viewer may see (the location scoping rule)."})
    )
    async def locations(self: Any, info: Info) -> list[Annotated[Location, strawberry.lazy("schema.organization")]]:
        principal = await info.context.require_principal()
        ids = await IntegrationLocation.filter(integration_id=self.id).values_list("location_id", flat=True)
        rows = await LocationRow.filter(location_q(principal), id__in=list(ids)).order_by("name_key")
        return rows  # type: ignore[return-value]

    @strawberry.field(description="Null when the viewer may not see that user.")
    async def created_by(self: Any, info: Info) -> Annotated[User, strawberry.lazy("schema.users")] | None:
        if self.created_by_id is None:
            return None
        principal = await info.context.require_principal()
        return await UserRow.filter(user_q(principal), id=self.created_by_id).first()  # type: ignore[return-value]

    @strawberry.field(**at_most(OWN_ROWS, {"description": TOKENS_DESCRIPTION}))
    async def tokens(self: Any, info: Info) -> list[ApiToken]:
        principal = await info.context.require_principal()
        if principal.grants.has_anywhere(_MANAGE):
            return await TokenRow.filter(integration_id=self.id).order_by("-created_at", "-id")  # type: ignore[return-value]
        # A token would otherwise list its siblings: which other credentials are live, and used when.
        refuse_beside(info, "The integration's tokens need the INTEGRATIONS_MANAGE permission.")
        return []


@strawberry.input
class CreateIntegrationInput(GrantSetInput):
    """`GrantSetInput`'s fields and no more."""


@strawberry.input
class UpdateIntegrationInput(GrantSetChangesInput):
    is_active: bool | None = strawberry.UNSET


@strawberry.input
class CreateApiTokenInput:
    integration_id: strawberry.ID
    name: str
    expires_at: datetime | None = None


RevokeApiTokenInput = id_input("RevokeApiTokenInput")


@strawberry.type
class IntegrationPayload(Payload, result="integration"):
    integration: Integration | None = None


@strawberry.type
class CreateApiTokenPayload(Payload):
    api_token: ApiToken | None = None
    secret: str | None = strawberry.field(default=None, description="Shown once; stored only as a hash.")

    @classmethod
    def of_result(cls, result: Any) -> CreateApiTokenPayload:
        return cls(api_token=result.token, secret=result.secret)


@strawberry.type
class Query:
    @strawberry.field(
        **at_most(ORGANIZATION_ROWS, requires(_MANAGE, description="The organization's partner integrations, by name."))
    )
    async def integrations(self, info: Info) -> list[Integration]:
        principal = await info.context.require_principal()
        return await integrations.integrations_of(principal)  # type: ignore[no-any-return]

    @strawberry.field(**requires(_MANAGE, description="One integration; null when unknown."))
    async def integration(self, info: Info, id: strawberry.ID) -> Integration | None:
        principal = await info.context.require_principal()
        parsed = parse_uuid(id)
        return await integrations.integrations_of(principal).filter(id=parsed).first() if parsed else None  # type: ignore[no-any-return]


@strawberry.type
class Mutation:
    create_integration = strawberry.mutation(
        resolver=IntegrationPayload.resolver(
            CreateIntegrationInput, "integration.create", integrations.create_integration
        ),
        **requires(
            _MANAGE,
            description="A partner integration holding at most the viewer's own grants.",
            effects=(GrantEffect.ADDS,),
        ),
    )
    update_integration = strawberry.mutation(
        resolver=IntegrationPayload.resolver(
            UpdateIntegrationInput, "integration.update", integrations.update_integration
        ),
        **requires(
            _MANAGE,
            description="Change an integration; widening or reactivating it stays within the viewer's grants. "
            "isActive: false refuses its tokens from the next request.",
            effects=(GrantEffect.ADDS, GrantEffect.RESTORES),
        ),
    )
    create_api_token = strawberry.mutation(
        resolver=CreateApiTokenPayload.resolver(
            CreateApiTokenInput,
            "integration.token_create",
            integrations.create_api_token,
            "integration_id",
            "name",
            "expires_at",
        ),
        **requires(
            _MANAGE,
            description="A new API token (tsk_...): the secret is in this answer only. Its expiry is capped to "
            "TESSERA_API_TOKEN_MAX_DAYS (366 days by default), which an absent one also gets.",
            effects=(GrantEffect.HANDS_OVER,),
        ),
    )
    revoke_api_token = strawberry.mutation(
        resolver=OkPayload.resolver(
            RevokeApiTokenInput, "integration.token_revoke", integrations.revoke_api_token, "id"
        ),
        **requires(
            _MANAGE,
            description="Revoke a token: refused from the very next request.",
            effects=(GrantEffect.NONE,),
            tokens=False,
        ),
    )
