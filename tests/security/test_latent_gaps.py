"""Rules of docs/architecture.md ("Principals and grants", "Authentication") that a path does not
apply yet. Each test names the module that owns the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.enums import AccessStatus, ProviderStatus, StaffTokenPurpose
from models.users import StaffToken, User
from permissions.catalog import Permission as P
from resolvers.credentials import new_token, token_hash
from tests.factories import Factory, Org, make_client, make_provider, staff_with
from tests.support import GQL, error_codes

ACCEPT = """mutation ($t: String!) { acceptStaffInvitation(input: {token: $t, password: "quiet-meadow-orchard-17"})
  { token errors { code } } }"""


async def test_registration_link_refused_once_the_provider_deactivation_date_passed(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """docs/architecture.md "Principals and grants": a user whose provider deactivation date has passed holds nothing
    and cannot log in;
    accepting a registration link opens a session (and sets the password, enables access)."""
    invited = await factory.user(
        org_a.organization,
        username="leaver",
        locations=[org_a.locations[0]],
        access=AccessStatus.INVITED,
        session=False,
    )
    await make_provider(
        invited.user,
        status=ProviderStatus.DEACTIVATION_SCHEDULED,
        deactivate_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    token = new_token("tsr_")
    await StaffToken.create(
        organization=org_a.organization,
        user=invited.user,
        purpose=StaffTokenPurpose.REGISTRATION,
        token_hash=token_hash(token),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    body = await gql(ACCEPT, {"t": token})
    assert "errors" not in body, body
    payload = body["data"]["acceptStaffInvitation"]
    assert payload["token"] is None
    assert [e["code"] for e in payload["errors"]] == ["INVITATION_INVALID"]
    assert (await User.get(id=invited.user.id)).access_status is AccessStatus.INVITED


async def test_client_invitations_need_client_portal_manage(gql: GQL, factory: Factory, org_a: Org) -> None:
    """Guarded by CLIENT_PORTAL_MANAGE. The list is non-null in the contract, so a viewer without the
    permission gets an empty list plus one FORBIDDEN error at its path, and the client itself still
    resolves (a raised error would null it)."""
    from permissions.grants import Grants
    from permissions.principal import Principal, PrincipalKind
    from permissions.scoping import can_see_client_invitations

    a1, a2 = org_a.locations
    patient = await make_client(org_a, a1, "Pat", "Ient")
    viewer = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1])
    body = await gql(
        "query ($id: ID!) { client(id: $id) { lastName invitations { id } } }",
        {"id": str(patient.id)},
        token=viewer.token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["client", "invitations"]
    assert body["data"]["client"] == {"lastName": "Ient", "invitations": []}
    # The rule the field applies: CLIENT_PORTAL_MANAGE at the client's location, not elsewhere.
    manager = Principal(
        PrincipalKind.USER, org_a.organization, Grants({P.CLIENT_PORTAL_MANAGE: frozenset({str(a1.id)})})
    )
    assert can_see_client_invitations(manager, str(a1.id)) is True
    assert can_see_client_invitations(manager, str(a2.id)) is False


async def test_member_count_does_not_count_users_out_of_scope(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    own = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    viewer = await factory.user(org_a.organization, username="v", locations=[a1], groups=[own])
    group = await factory.group(org_a.organization, [P.CLIENTS_READ])
    await factory.user(org_a.organization, username="hidden", locations=[a2], groups=[group])
    body = await gql(
        "query ($id: ID!) { permissionGroup(id: $id) { memberCount members { totalCount } } }",
        {"id": str(group.id)},
        token=viewer.token,
    )
    assert body["data"]["permissionGroup"] == {"memberCount": 0, "members": {"totalCount": 0}}
