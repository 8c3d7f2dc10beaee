"""Deactivating providers (article 003): now with client reassignment (all or nothing), on a future date
(login refused from that moment, the job applies the rest), cancelling, reactivating, the last admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.jobs_providers import provider_deactivations
from models.audit import AuditEvent
from models.clients import Client
from models.enums import ActorKind, ProviderStatus, UserType
from models.providers import Provider
from models.sessions import Session
from models.users import User
from permissions.catalog import Permission as P
from tests.factories import PASSWORD, make_client, make_provider
from tests.support import error_codes

DEACTIVATE = """mutation($input: DeactivateProviderInput!) { deactivateProvider(input: $input) {
  provider { id status deactivateAt deactivatedAt version } reassignedClientCount errors { field code }
} }"""
CANCEL = """mutation($id: ID!) { cancelProviderDeactivation(input: {id: $id}) {
  provider { id status deactivateAt } errors { field code } } }"""
REACTIVATE = """mutation($id: ID!) { reactivateProvider(input: {id: $id}) {
  provider { id status deactivatedAt } errors { field code } } }"""
VIEWER = "{ viewer { user { username } } }"
LOGIN = """mutation($s: String!, $u: String!, $p: String!) {
  login(input: {organizationSlug: $s, username: $u, password: $p}) { token errors { code } } }"""


async def provider_staff(factory, org, locations, name, **extra):
    """A PROVIDER user with a live session and a provider row."""
    staff = await factory.user(org.organization, type=UserType.PROVIDER, locations=locations, **extra)
    return staff, await make_provider(staff.user, display_name=name)


async def test_deactivate_now_moves_clients_ends_sessions_and_audits(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    leaving, old = await provider_staff(factory, org_a, [a1, a2], "Dr Old")
    _, new = await provider_staff(factory, org_a, [a1, a2], "Dr New")
    clients = [await make_client(org_a, loc, "C", f"L{n}", provider=old) for n, loc in enumerate([a1, a2, a1])]
    assert (await gql(VIEWER, token=leaving.token))["data"]["viewer"]["user"]["username"] == leaving.user.username

    body = await gql(
        DEACTIVATE, {"input": {"id": str(old.id), "reassignClientsToProviderId": str(new.id)}}, token=org_a.admin.token
    )
    result = body["data"]["deactivateProvider"]
    assert result["errors"] == [], body
    assert result["reassignedClientCount"] == 3
    assert result["provider"]["status"] == "INACTIVE" and result["provider"]["deactivatedAt"]
    assert result["provider"]["version"] == 2
    assert await Client.filter(id__in=[c.id for c in clients], primary_provider_id=new.id).count() == 3
    assert (await Client.get(id=clients[0].id)).version == 2
    assert (await User.get(id=leaving.user.id)).is_active is False
    assert await Session.filter(user_id=leaving.user.id, revoked_at__isnull=True).count() == 0
    # Their session ends at once: the very next request is refused.
    assert error_codes(await gql(VIEWER, token=leaving.token)) == ["UNAUTHENTICATED"]
    event = await AuditEvent.get(action="provider.deactivate", target_id=old.id)
    assert event.changes["reassigned_client_count"] == 3
    assert event.changes["reassign_to"] == str(new.id)


async def test_deactivate_without_reassignment_keeps_clients(gql, factory, org_a) -> None:
    _, old = await provider_staff(factory, org_a, [org_a.locations[0]], "Dr Old")
    client = await make_client(org_a, org_a.locations[0], "C", "L", provider=old)
    body = await gql(DEACTIVATE, {"input": {"id": str(old.id)}}, token=org_a.admin.token)
    assert body["data"]["deactivateProvider"]["reassignedClientCount"] == 0
    assert (await Client.get(id=client.id)).primary_provider_id == old.id


async def test_reassignment_is_all_or_nothing(gql, factory, org_a, org_b) -> None:
    a1, a2 = org_a.locations
    leaving, old = await provider_staff(factory, org_a, [a1, a2], "Dr Old")
    _, only_a1 = await provider_staff(factory, org_a, [a1], "Dr OnlyA1")
    _, inactive = await provider_staff(factory, org_a, [a1, a2], "Dr Inactive")
    await Provider.filter(id=inactive.id).update(status=ProviderStatus.INACTIVE)
    _, foreign = await provider_staff(factory, org_b, [org_b.locations[0]], "Dr Foreign")
    await make_client(org_a, a1, "C", "One", provider=old)
    await make_client(org_a, a2, "C", "Two", provider=old)

    async def refused(target: str, token: str = org_a.admin.token) -> list[tuple[str, str]]:
        body = await gql(DEACTIVATE, {"input": {"id": str(old.id), "reassignClientsToProviderId": target}}, token=token)
        return [(e["field"][-1], e["code"]) for e in body["data"]["deactivateProvider"]["errors"]]

    field = "reassignClientsToProviderId"
    assert await refused(str(only_a1.id)) == [(field, "INVALID")]  # not at A2, where a client is
    assert await refused(str(inactive.id)) == [(field, "INVALID")]
    assert await refused(str(old.id)) == [(field, "INVALID")]
    assert await refused(str(foreign.id)) == [(field, "NOT_FOUND")]
    assert await refused("garbage") == [(field, "NOT_FOUND")]
    # An actor with CLIENTS_MANAGE at A1 only may not move the A2 client.
    group = await factory.group(
        org_a.organization, [P.PROVIDERS_READ, P.PROVIDERS_DEACTIVATE, P.CLIENTS_MANAGE], locations=[a1]
    )
    limited = await factory.user(org_a.organization, all_locations=True, groups=[group])
    partial = await refused(str(only_a1.id), token=limited.token)
    assert partial[0][1] in {"FORBIDDEN", "INVALID"}
    # Nothing happened: still active, sessions alive, clients in place.
    row = await Provider.get(id=old.id)
    assert row.status is ProviderStatus.ACTIVE and row.version == 1
    assert (await User.get(id=leaving.user.id)).is_active
    assert await Client.filter(primary_provider_id=old.id).count() == 2
    assert error_codes(await gql(VIEWER, token=leaving.token)) == []


async def test_the_new_provider_must_be_reachable_by_the_actor(gql, factory, org_a) -> None:
    """Active and practising at the client's location is not enough: a provider the actor cannot see
    (no PROVIDERS_READ at its sites) is NOT_FOUND, like a random id, and nothing moves."""
    a1, a2 = org_a.locations
    _, old = await provider_staff(factory, org_a, [a1], "Dr Old")
    _, hidden = await provider_staff(factory, org_a, [a1, a2], "Dr Hidden")
    _, visible = await provider_staff(factory, org_a, [a1], "Dr Visible")
    await make_client(org_a, a1, "C", "One", provider=old)
    manage = await factory.group(org_a.organization, [P.PROVIDERS_DEACTIVATE, P.CLIENTS_MANAGE], locations=[a1])
    # May deactivate providers and move clients at A1, but holds no PROVIDERS_READ: sees no provider.
    actor = await factory.user(org_a.organization, locations=[a1], groups=[manage])
    body = await gql(
        DEACTIVATE, {"input": {"id": str(old.id), "reassignClientsToProviderId": str(hidden.id)}}, token=actor.token
    )
    assert [(e["field"][-1], e["code"]) for e in body["data"]["deactivateProvider"]["errors"]] == [
        ("reassignClientsToProviderId", "NOT_FOUND")
    ]
    assert (await Provider.get(id=old.id)).status is ProviderStatus.ACTIVE
    assert await Client.filter(primary_provider_id=old.id).count() == 1
    # With PROVIDERS_READ where they work, the same actor may hand the clients over.
    reader = await factory.group(org_a.organization, [P.PROVIDERS_READ], locations=[a1])
    actor2 = await factory.user(org_a.organization, locations=[a1], groups=[manage, reader])
    body = await gql(
        DEACTIVATE, {"input": {"id": str(old.id), "reassignClientsToProviderId": str(visible.id)}}, token=actor2.token
    )
    assert (
        body["data"]["deactivateProvider"]["errors"] == []
        and body["data"]["deactivateProvider"]["reassignedClientCount"] == 1
    )


async def test_clients_manage_is_needed_at_every_client_location(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    _, old = await provider_staff(factory, org_a, [a1], "Dr Old")
    _, new = await provider_staff(factory, org_a, [a1, a2], "Dr New")
    await make_client(org_a, a2, "C", "Elsewhere", provider=old)  # the client is treated at A2
    group = await factory.group(
        org_a.organization, [P.PROVIDERS_READ, P.PROVIDERS_DEACTIVATE, P.CLIENTS_MANAGE], locations=[a1]
    )
    actor = await factory.user(org_a.organization, locations=[a1, a2], groups=[group])
    body = await gql(
        DEACTIVATE, {"input": {"id": str(old.id), "reassignClientsToProviderId": str(new.id)}}, token=actor.token
    )
    assert [e["code"] for e in body["data"]["deactivateProvider"]["errors"]] == ["FORBIDDEN"]
    assert (await Provider.get(id=old.id)).status is ProviderStatus.ACTIVE


async def test_last_admin_cannot_be_deactivated(gql, factory, org_a) -> None:
    admin_provider = await make_provider(org_a.admin.user, display_name="Dr Admin")
    body = await gql(DEACTIVATE, {"input": {"id": str(admin_provider.id)}}, token=org_a.admin.token)
    assert [e["code"] for e in body["data"]["deactivateProvider"]["errors"]] == ["LAST_ADMIN"]
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body = await gql(
        DEACTIVATE, {"input": {"id": str(admin_provider.id), "effectiveAt": future}}, token=org_a.admin.token
    )
    assert [e["code"] for e in body["data"]["deactivateProvider"]["errors"]] == ["LAST_ADMIN"]
    # With a second acting admin it goes through.
    await factory.user(org_a.organization, username="admin2", is_admin=True, all_locations=True)
    body = await gql(DEACTIVATE, {"input": {"id": str(admin_provider.id)}}, token=org_a.admin.token)
    assert body["data"]["deactivateProvider"]["errors"] == []


async def test_scheduled_deactivation_refuses_login_from_its_date_and_the_job_applies_it(
    gql, factory, org_a, settings
) -> None:
    a1 = org_a.locations[0]
    leaving, old = await provider_staff(factory, org_a, [a1], "Dr Old", username="leaving")
    _, new = await provider_staff(factory, org_a, [a1], "Dr New")
    client = await make_client(org_a, a1, "C", "L", provider=old)
    when = datetime.now(UTC) + timedelta(days=2)
    body = await gql(
        DEACTIVATE,
        {"input": {"id": str(old.id), "effectiveAt": when.isoformat(), "reassignClientsToProviderId": str(new.id)}},
        token=org_a.admin.token,
    )
    result = body["data"]["deactivateProvider"]
    assert result["errors"] == [], body
    assert result["provider"]["status"] == "DEACTIVATION_SCHEDULED"
    assert result["reassignedClientCount"] is None
    assert await AuditEvent.filter(action="provider.deactivation_schedule", target_id=old.id).count() == 1
    # Before the date: nothing changes for the provider, and the job leaves it alone.
    assert error_codes(await gql(VIEWER, token=leaving.token)) == []
    assert await provider_deactivations(settings) == 0
    # The date passes (no job yet): the next request and a login are refused at once.
    await Provider.filter(id=old.id).update(deactivate_at=datetime.now(UTC) - timedelta(seconds=1))
    assert error_codes(await gql(VIEWER, token=leaving.token)) == ["UNAUTHENTICATED"]
    login = await gql(LOGIN, {"s": "clinic-a", "u": "leaving", "p": PASSWORD})
    assert login["data"]["login"]["token"] is None
    assert [e["code"] for e in login["data"]["login"]["errors"]] == ["ACCOUNT_INACTIVE"]
    body = await gql("query($id: ID!) { provider(id: $id) { status } }", {"id": str(old.id)}, token=org_a.admin.token)
    assert body["data"]["provider"]["status"] == "INACTIVE"
    # The job applies it once.
    assert await provider_deactivations(settings) == 1
    assert await provider_deactivations(settings) == 0
    row = await Provider.get(id=old.id)
    assert row.status is ProviderStatus.INACTIVE and row.deactivated_at is not None and row.deactivate_at is None
    assert (await User.get(id=leaving.user.id)).is_active is False
    assert await Session.filter(user_id=leaving.user.id, revoked_at__isnull=True).count() == 0
    assert (await Client.get(id=client.id)).primary_provider_id == new.id
    event = await AuditEvent.get(action="provider.deactivate", target_id=old.id)
    assert event.actor_kind is ActorKind.SYSTEM
    assert event.changes["reassigned_client_count"] == 1


async def test_cancel_a_scheduled_deactivation(gql, factory, org_a) -> None:
    _, prov = await provider_staff(factory, org_a, [org_a.locations[0]], "Dr Maybe")
    body = await gql(CANCEL, {"id": str(prov.id)}, token=org_a.admin.token)
    assert [e["code"] for e in body["data"]["cancelProviderDeactivation"]["errors"]] == ["INVALID"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await gql(DEACTIVATE, {"input": {"id": str(prov.id), "effectiveAt": future}}, token=org_a.admin.token)
    body = await gql(CANCEL, {"id": str(prov.id)}, token=org_a.admin.token)
    result = body["data"]["cancelProviderDeactivation"]
    assert result["errors"] == [] and result["provider"] == {
        "id": str(prov.id),
        "status": "ACTIVE",
        "deactivateAt": None,
    }
    assert await AuditEvent.filter(action="provider.deactivation_cancel", target_id=prov.id).count() == 1


async def test_reactivate_restores_provider_and_user_but_not_access(gql, factory, org_a) -> None:
    staff, prov = await provider_staff(factory, org_a, [org_a.locations[0]], "Dr Back")
    body = await gql(REACTIVATE, {"id": str(prov.id)}, token=org_a.admin.token)
    assert [e["code"] for e in body["data"]["reactivateProvider"]["errors"]] == ["INVALID"]
    await gql(DEACTIVATE, {"input": {"id": str(prov.id)}}, token=org_a.admin.token)
    body = await gql(DEACTIVATE, {"input": {"id": str(prov.id)}}, token=org_a.admin.token)
    assert [e["code"] for e in body["data"]["deactivateProvider"]["errors"]] == ["INVALID"]
    body = await gql(REACTIVATE, {"id": str(prov.id)}, token=org_a.admin.token)
    result = body["data"]["reactivateProvider"]
    assert result["errors"] == [] and result["provider"]["status"] == "ACTIVE"
    assert result["provider"]["deactivatedAt"] is None
    user = await User.get(id=staff.user.id)
    assert user.is_active and user.access_status is staff.user.access_status
    # The old session stays ended; a new login works.
    assert error_codes(await gql(VIEWER, token=staff.token)) == ["UNAUTHENTICATED"]
    login = await gql(LOGIN, {"s": "clinic-a", "u": staff.user.username, "p": PASSWORD})
    assert login["data"]["login"]["errors"] == [] and login["data"]["login"]["token"]
    assert await AuditEvent.filter(action="provider.reactivate", target_id=prov.id).count() == 1


async def test_an_inactive_provider_cannot_log_in(gql, factory, org_a) -> None:
    staff, prov = await provider_staff(factory, org_a, [org_a.locations[0]], "Dr Off", username="offduty")
    await Provider.filter(id=prov.id).update(status=ProviderStatus.INACTIVE)
    assert error_codes(await gql(VIEWER, token=staff.token)) == ["UNAUTHENTICATED"]
    login = await gql(LOGIN, {"s": "clinic-a", "u": "offduty", "p": PASSWORD})
    assert [e["code"] for e in login["data"]["login"]["errors"]] == ["ACCOUNT_INACTIVE"]
