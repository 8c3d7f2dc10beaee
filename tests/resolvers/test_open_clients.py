"""One rule for an "open" client (models/enums.py `OPEN_CLIENT_STATUS`, issue 9): "My Clients", a
provider's `clientCount` and its `clients` list count the same rows, so an archived client (or a
merged-away or not yet reviewed one) is in none of them."""

from __future__ import annotations

import uuid

from models.clients import Client
from models.enums import ClientStatus, UserType
from models.providers import Provider
from permissions.catalog import Permission as P

QUERY = """query($id: ID!) {
  myClients { totalCount edges { node { id } } }
  provider(id: $id) { clientCount clients { totalCount edges { node { id } } } }
}"""


async def test_my_clients_and_client_count_count_the_same_clients(gql, factory, org_a) -> None:
    a1 = org_a.locations[0]
    group = await factory.group(org_a.organization, [P.CLIENTS_READ, P.PROVIDERS_READ])
    staff = await factory.user(org_a.organization, type=UserType.PROVIDER, locations=[a1], groups=[group])
    provider = await Provider.create(
        id=uuid.uuid4(),
        organization_id=org_a.organization.id,
        user=staff.user,
        display_name="Dr Dana Reyes",
        display_name_key="dr dana reyes",
    )
    ids = {}
    for status in ClientStatus:
        client = await Client.create(
            id=uuid.uuid4(),
            organization_id=org_a.organization.id,
            location=a1,
            first_name="Client",
            first_name_key="client",
            last_name=status.value.title(),
            last_name_key=status.value.lower(),
            timezone="America/Toronto",
            primary_provider=provider,
            status=status,
        )
        ids[status] = str(client.id)
    for token in (staff.token, org_a.admin.token):
        body = await gql(QUERY, {"id": str(provider.id)}, token=token)
        assert not body.get("errors"), body
        data = body["data"]
        listed = {e["node"]["id"] for e in data["provider"]["clients"]["edges"]}
        assert listed == {ids[ClientStatus.ACTIVE]}
        assert data["provider"]["clientCount"] == data["provider"]["clients"]["totalCount"] == 1
        if token == staff.token:  # "My Clients" is the viewer's own
            assert {e["node"]["id"] for e in data["myClients"]["edges"]} == listed
            assert data["myClients"]["totalCount"] == 1
