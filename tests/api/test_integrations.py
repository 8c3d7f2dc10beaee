"""Partner integrations and API tokens over HTTP (issue 12): the secret shown once and stored hashed,
scoped reads, tokens refused from the next request once revoked, expired or deactivated, the cost
extension and the bucket. (Redis and two server processes: test_integrations_redis.py and
tests/e2e/test_shared_bucket.py.)"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.settings import Settings
from models.audit import AuditEvent
from models.integrations import ApiToken, TokenBucket
from permissions.catalog import Permission as P
from tests.factories import Factory, Org, make_client, make_provider, staff_with
from tests.support import GQL, error_codes, payload_codes

CREATE = """mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) {
  integration { id name permissions allLocations locations { name } isActive createdBy { id } }
  errors { field code } } }"""
NEW_TOKEN = """mutation($id: ID!, $exp: DateTime) {
  createApiToken(input: {integrationId: $id, name: "sync", expiresAt: $exp}) {
    secret apiToken { id prefix expiresAt lastUsedAt } errors { field code } } }"""
UPDATE = """mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) {
  integration { isActive permissions } errors { field code } } }"""
REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { ok errors { code } } }"
CLIENTS = "{ clients(first: 50) { edges { node { firstName } } } }"
CLIENT = "query($id: ID!) { client(id: $id) { firstName } }"
NESTED = "query($id: ID!) { provider(id: $id) { clients { edges { node { firstName } } } } }"


async def _token(gql: GQL, admin: str, integration_id: str, **extra: Any) -> dict[str, Any]:
    body = await gql(NEW_TOKEN, {"id": integration_id, **extra}, token=admin)
    return body["data"]["createApiToken"]


async def test_a_partner_integration_token_reads_only_what_it_was_given(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    admin = org_a.admin.token
    body = await gql(
        CREATE,
        {
            "i": {
                "name": "Booking sync",
                "permissions": ["CLIENTS_READ", "PROVIDERS_READ"],
                "locationIds": [str(a1.id)],
            }
        },
        token=admin,
    )
    integration = body["data"]["createIntegration"]["integration"]
    assert integration["locations"] == [{"name": a1.name}] and integration["createdBy"] == {
        "id": str(org_a.admin.user.id)
    }
    issued = await _token(gql, admin, integration["id"])
    secret = issued["secret"]
    assert secret.startswith("tsk_") and len(secret) > 40 and issued["apiToken"]["prefix"] == secret[:12]
    # Stored as a hash only; never shown again; never on the audit trail.
    row = await ApiToken.get(id=issued["apiToken"]["id"])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in str(row.__dict__)
    listed = await gql("{ integrations { tokens { prefix } } }", token=admin)
    assert secret not in str(listed) and listed["data"]["integrations"][0]["tokens"][0]["prefix"] == secret[:12]
    assert not [e for e in await AuditEvent.all() if secret in str(e.changes)]

    dr = await staff_with(factory, org_a, [P.CLIENTS_READ_OWN], [a1, a2])
    provider = await make_provider(dr.user)
    await make_client(org_a, a1, "Ada", "Here", provider=provider)
    there = await make_client(org_a, a2, "Bo", "There", provider=provider)
    names = await gql(CLIENTS, token=secret)
    assert [e["node"]["firstName"] for e in names["data"]["clients"]["edges"]] == ["Ada"]
    assert (await gql(CLIENT, {"id": str(there.id)}, token=secret))["data"]["client"] is None
    nested = await gql(NESTED, {"id": str(provider.id)}, token=secret)
    assert [e["node"]["firstName"] for e in nested["data"]["provider"]["clients"]["edges"]] == ["Ada"]
    # It holds nothing else: no writes, no staff.
    assert error_codes(await gql("{ users { totalCount } }", token=secret)) == ["FORBIDDEN"]
    # Its reads are in the PHI access log, the integration as the actor.
    read = await AuditEvent.filter(action="client.read").order_by("-occurred_at").first()
    assert read is not None and read.actor_kind == "INTEGRATION" and str(read.actor_id) == integration["id"]


async def test_revoked_expired_and_deactivated_tokens_are_refused_on_the_next_request(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    admin = org_a.admin.token
    partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
    assert error_codes(await gql(CLIENTS, token=partner.token)) == []
    await gql(REVOKE, {"id": str(partner.api_token.id)}, token=admin)
    assert error_codes(await gql(CLIENTS, token=partner.token)) == ["UNAUTHENTICATED"]

    expiring = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations, name="Expiring")
    assert error_codes(await gql(CLIENTS, token=expiring.token)) == []
    await ApiToken.filter(id=expiring.api_token.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert error_codes(await gql(CLIENTS, token=expiring.token)) == ["UNAUTHENTICATED"]

    paused = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations, name="Paused")
    off = await gql(UPDATE, {"i": {"id": str(paused.integration.id), "isActive": False}}, token=admin)
    assert off["data"]["updateIntegration"]["errors"] == []
    assert error_codes(await gql(CLIENTS, token=paused.token)) == ["UNAUTHENTICATED"]
    on = await gql(UPDATE, {"i": {"id": str(paused.integration.id), "isActive": True}}, token=admin)
    assert on["data"]["updateIntegration"]["errors"] == []
    assert error_codes(await gql(CLIENTS, token=paused.token)) == []


async def test_no_integration_beyond_its_maker_and_reactivating_is_granting(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    a1, a2 = org_a.locations
    keeper = await staff_with(factory, org_a, [P.INTEGRATIONS_MANAGE, P.CLIENTS_READ], [a1])
    wide = await factory.integration(org_a, [P.CLIENTS_READ], [a1, a2], name="Wide")
    # Deactivating is no grant; giving its A2 grant back is.
    off = await gql(UPDATE, {"i": {"id": str(wide.integration.id), "isActive": False}}, token=keeper.token)
    assert off["data"]["updateIntegration"]["errors"] == []
    on = await gql(UPDATE, {"i": {"id": str(wide.integration.id), "isActive": True}}, token=keeper.token)
    assert [(e["field"], e["code"]) for e in on["data"]["updateIntegration"]["errors"]] == [
        (["input", "locationIds"], "FORBIDDEN")
    ]
    more = await gql(
        UPDATE,
        {"i": {"id": str(wide.integration.id), "isActive": True, "permissions": ["CLIENTS_READ", "CLIENTS_MANAGE"]}},
        token=org_a.admin.token,
    )
    assert more["data"]["updateIntegration"]["integration"]["permissions"] == ["CLIENTS_MANAGE", "CLIENTS_READ"]
    # A token never holds INTEGRATIONS_MANAGE, even through a crafted row.
    from models.integrations import Integration

    await Integration.filter(id=wide.integration.id).update(permissions=["INTEGRATIONS_MANAGE", "CLIENTS_READ"])
    minted = await gql(NEW_TOKEN, {"id": str(wide.integration.id)}, token=wide.token)
    assert error_codes(minted) == ["FORBIDDEN"]


async def test_a_token_lives_at_most_the_organization_maximum(gql: GQL, factory: Factory, org_a: Org) -> None:
    partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
    admin = org_a.admin.token
    absent = await _token(gql, admin, str(partner.integration.id))
    far = await _token(
        gql, admin, str(partner.integration.id), exp=(datetime.now(UTC) + timedelta(days=1000)).isoformat()
    )
    soon = await _token(
        gql, admin, str(partner.integration.id), exp=(datetime.now(UTC) + timedelta(days=30)).isoformat()
    )
    past = await _token(
        gql, admin, str(partner.integration.id), exp=(datetime.now(UTC) - timedelta(days=1)).isoformat()
    )
    for issued in (absent, far):
        days = (datetime.fromisoformat(issued["apiToken"]["expiresAt"]) - datetime.now(UTC)).days
        assert 365 <= days <= 366, issued
    assert 29 <= (datetime.fromisoformat(soon["apiToken"]["expiresAt"]) - datetime.now(UTC)).days <= 30
    assert payload_codes(past) == ["INVALID"]


async def test_last_used_is_written_at_most_once_a_minute(gql: GQL, factory: Factory, org_a: Org) -> None:
    partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
    await gql(CLIENTS, token=partner.token)
    first = (await ApiToken.get(id=partner.api_token.id)).last_used_at
    await gql(CLIENTS, token=partner.token)
    assert (await ApiToken.get(id=partner.api_token.id)).last_used_at == first
    await ApiToken.filter(id=partner.api_token.id).update(last_used_at=datetime.now(UTC) - timedelta(minutes=2))
    await gql(CLIENTS, token=partner.token)
    assert (await ApiToken.get(id=partner.api_token.id)).last_used_at > first  # type: ignore[operator]


async def test_every_token_response_carries_its_cost(gql: GQL, factory: Factory, org_a: Org) -> None:
    partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
    for n in range(3):
        await make_client(org_a, org_a.locations[0], f"C{n}", "Cost")
    body = await gql(CLIENTS, token=partner.token)
    cost = body["extensions"]["cost"]
    # Requested: clients 1 + 50 x (edges 1 + node 1 + firstName 1); actual: 1 + 3 x 3.
    assert cost["requestedQueryCost"] == 151 and cost["actualQueryCost"] == 10
    throttle = cost["throttleStatus"]
    assert throttle["maximumAvailable"] == 1000.0 and throttle["restoreRate"] == 50.0
    assert 989 <= throttle["currentlyAvailable"] <= 1000
    # Staff never see one.
    assert "cost" not in (await gql(CLIENTS, token=org_a.admin.token))["extensions"]


def bucket_of(size: int, restore_rate: int) -> Any:
    """A class's `settings` fixture: the suite's settings with a token bucket of this size and rate."""

    @pytest.fixture
    def settings(self: Any, settings: Settings) -> Settings:
        return dataclasses.replace(settings, token_bucket_size=size, token_bucket_restore_rate=restore_rate)

    return settings


class TestDrainedBucket:
    settings = bucket_of(200, 1)

    async def test_a_drained_bucket_answers_rate_limited_with_a_retry_after(
        self, gql: GQL, factory: Factory, org_a: Org
    ) -> None:
        partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
        for n in range(50):
            await make_client(org_a, org_a.locations[0], f"C{n:02d}", "Drain")
        first = await gql(CLIENTS, token=partner.token)
        assert error_codes(first) == [] and first["extensions"]["cost"]["actualQueryCost"] == 151
        assert first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 60
        refused = await gql(CLIENTS, token=partner.token)
        assert error_codes(refused) == ["RATE_LIMITED"]
        error = refused["errors"][0]
        assert refused["data"] is None and error["extensions"]["retryAfter"] >= 1
        assert refused["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 201
        too_big = await gql(
            "{ clients(first: 100) { edges { node { firstName lastName email } } } }", token=partner.token
        )
        assert error_codes(too_big) == ["QUERY_TOO_COMPLEX"]
        # Staff are never rate limited by a token's bucket.
        assert error_codes(await gql(CLIENTS, token=org_a.admin.token)) == []


class TestRefusalsShowTheBudget:
    """Every answer to an API token carries `extensions.cost` (docs/architecture.md, "Principals and
    grants": the token bucket), refusals included: a query over the whole budget, one the document
    limits or validation refuse before anything is charged (audit 53). None of them is charged."""

    settings = bucket_of(200, 1)

    @pytest.mark.parametrize(
        ("document", "code"),
        [
            ("{ clients(first: 100) { edges { node { firstName lastName email } } } }", "QUERY_TOO_COMPLEX"),
            ("{ " + " ".join(f"a{n}: organization {{ name }}" for n in range(20)) + " }", "QUERY_TOO_COMPLEX"),
            ("{ organization { nope } }", "BAD_USER_INPUT"),
            ("{ organization { name ", "BAD_USER_INPUT"),
        ],
    )
    async def test_a_refused_query_shows_the_budget_and_is_charged_nothing(
        self, gql: GQL, factory: Factory, org_a: Org, document: str, code: str
    ) -> None:
        partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
        body = await gql(document, token=partner.token)
        assert error_codes(body) == [code], body
        cost = body["extensions"]["cost"]
        assert cost["actualQueryCost"] == 0
        assert cost["throttleStatus"] == {"maximumAvailable": 200.0, "currentlyAvailable": 200.0, "restoreRate": 1.0}
        # Read without writing (no bucket row made), and staff and anonymous callers still see none.
        assert not await TokenBucket.filter(integration_id=partner.integration.id).exists()
        assert "cost" not in (await gql(document, token=org_a.admin.token)).get("extensions", {})
        assert "cost" not in (await gql(document)).get("extensions", {})

    async def test_a_request_refused_before_its_document_runs_shows_it_too(
        self, gql: GQL, factory: Factory, org_a: Org
    ) -> None:
        """An unknown persisted query (Apollo's clients send the hash alone first) and a bad body are
        refused by the view before any document runs: a token saw no budget there (found checking
        the "every answer" rule end to end). A made-up token still sees none."""
        partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
        persisted = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}}
        for body, code, status in (
            (persisted, "PERSISTED_QUERY_NOT_FOUND", 200),
            ([{"query": "{ viewer { kind } }"}], "BAD_USER_INPUT", 400),  # a batch: off
        ):
            for token, shown in ((partner.token, True), ("tsk_" + "x" * 43, False), (org_a.admin.token, False)):
                response = await gql.http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
                answer = response.json()
                assert response.status_code == status and error_codes(answer) == [code], answer
                assert ("cost" in answer["extensions"]) is shown, answer
                if shown:
                    assert answer["extensions"]["cost"]["actualQueryCost"] == 0
                    assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 200.0

    async def test_a_store_that_cannot_be_read_leaves_the_report_out_not_the_answer(
        self, gql: GQL, factory: Factory, org_a: Org, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from resolvers import buckets

        async def broken(self: Any, bucket_id: str, budget: Any) -> float:
            raise RuntimeError("database is locked")

        monkeypatch.setattr(buckets.DatabaseBuckets, "peek", broken)
        partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
        body = await gql("{ organization { nope } }", token=partner.token)
        assert error_codes(body) == ["BAD_USER_INPUT"] and "cost" not in body.get("extensions", {}), body


class TestListsWithoutAPageSize:
    """Found in a security review: a list with no `first` (locations, permissionGroups,
    Integration.tokens...) was estimated at one row, and the settlement's debt stopped at minus the
    bucket's size, so one request could return far more than the bucket was ever charged."""

    settings = bucket_of(300, 1)

    async def test_a_list_is_estimated_at_its_declared_rows_and_pays_every_row_it_returned(
        self, gql: GQL, factory: Factory, org_a: Org
    ) -> None:
        for n in range(150):
            await factory.location(org_a.organization, f"Site {n:03d}")
        partner = await factory.integration(org_a, [P.CLIENTS_READ], all_locations=True)
        # Eight lists of locations: more than the bucket's 300 even at the rows a list of locations
        # declares (8 x (1 + 20 x 2)), so it is refused before it runs.
        many = "{ " + " ".join(f"l{n}: locations {{ id name }}" for n in range(8)) + " }"
        assert error_codes(await gql(many, token=partner.token)) == ["QUERY_TOO_COMPLEX"]
        body = await gql("{ a: locations { id name } b: locations { id name } }", token=partner.token)
        assert error_codes(body) == [] and len(body["data"]["a"]) == 152
        cost = body["extensions"]["cost"]
        assert cost["requestedQueryCost"] > 2 * (1 + 2)  # more than one row a list
        assert cost["actualQueryCost"] == 2 * 152 * (1 + 2)  # a row and its two fields, in each list
        # Every point of it paid: 300 - 912, not the -300 a capped debt stopped at.
        assert cost["throttleStatus"]["currentlyAvailable"] <= 300 - 912 + 5
        refused = await gql("{ organization { name } }", token=partner.token)
        assert error_codes(refused) == ["RATE_LIMITED"] and refused["errors"][0]["extensions"]["retryAfter"] > 300


async def test_a_request_that_fails_still_pays_its_estimate(gql: GQL, factory: Factory, org_a: Org) -> None:
    partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
    body = await gql(
        "{ clients(first: 100) { edges { node { firstName } } } users { totalCount } }", token=partner.token
    )
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    cost = body["extensions"]["cost"]
    assert cost["actualQueryCost"] == cost["requestedQueryCost"] > 300
    assert cost["throttleStatus"]["currentlyAvailable"] <= 1000 - cost["requestedQueryCost"] + 1


async def test_all_tokens_of_an_integration_share_one_bucket(gql: GQL, factory: Factory, org_a: Org) -> None:
    partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
    second = await _token(gql, org_a.admin.token, str(partner.integration.id))
    await gql("{ clients(first: 100) { edges { node { firstName } } } users { totalCount } }", token=partner.token)
    body = await gql(CLIENTS, token=second["secret"])
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 800


async def test_an_inactive_integration_cannot_be_loaded_beyond_its_editor(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    a1, a2 = org_a.locations
    keeper = await staff_with(factory, org_a, [P.INTEGRATIONS_MANAGE, P.CLIENTS_READ], [a1])
    paused = await factory.integration(org_a, [P.CLIENTS_READ], [a1], name="Paused")
    await gql(UPDATE, {"i": {"id": str(paused.integration.id), "isActive": False}}, token=keeper.token)
    more = {"id": str(paused.integration.id), "permissions": ["CLIENTS_READ", "BILLING_READ"]}
    widened = await gql(UPDATE, {"i": more}, token=keeper.token)
    assert payload_codes(widened["data"]["updateIntegration"]) == ["FORBIDDEN"]
    wide = await factory.integration(org_a, [P.CLIENTS_READ], [a1, a2], name="Wide")
    listed = await gql(
        "query($id: ID!) { integration(id: $id) { locations { name } } }",
        {"id": str(wide.integration.id)},
        token=keeper.token,
    )
    assert listed["data"]["integration"]["locations"] == [{"name": a1.name}]  # A2 is beyond the keeper's sight


SIBLINGS = "{ viewer { integration { name tokens { id prefix lastUsedAt } } } }"


async def test_a_token_does_not_list_its_integrations_other_tokens(gql: GQL, factory: Factory, org_a: Org) -> None:
    """Found in a security review: through `viewer { integration { tokens } }` any token listed its
    siblings' names, prefixes, last use and expiry, which elsewhere need INTEGRATIONS_MANAGE."""
    partner = await factory.integration(org_a, [P.CLIENTS_READ], org_a.locations)
    made = await gql(NEW_TOKEN, {"id": str(partner.integration.id)}, token=org_a.admin.token)
    assert made["data"]["createApiToken"]["errors"] == [], made
    body = await gql(SIBLINGS, token=partner.token)
    assert body["data"]["viewer"]["integration"] == {"name": partner.integration.name, "tokens": []}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["viewer", "integration", "tokens"], "FORBIDDEN")
    ]
    listed = await gql(
        "query($id: ID!) { integration(id: $id) { tokens { prefix } } }",
        {"id": str(partner.integration.id)},
        token=org_a.admin.token,
    )
    assert len(listed["data"]["integration"]["tokens"]) == 2
