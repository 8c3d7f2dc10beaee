"""One rule for an "open" client (models/enums.py `OPEN_CLIENT_STATUS`, issue 9): "My Clients", a
provider's `clientCount` and its `clients` list count the same rows, so an archived client (or a
merged-away or not yet reviewed one) is in none of them."""

from __future__ import annotations

from models.enums import ClientStatus, UserType
from permissions.catalog import Permission as P
from tests.factories import make_client, make_provider

QUERY = """query($id: ID!) {
  myClients { totalCount edges { node { id } } }
  provider(id: $id) { clientCount clients { totalCount edges { node { id } } } }
}"""


async def test_my_clients_and_client_count_count_the_same_clients(gql, factory, org_a) -> None:
    a1 = org_a.locations[0]
    group = await factory.group(org_a.organization, [P.CLIENTS_READ, P.PROVIDERS_READ])
    staff = await factory.user(org_a.organization, type=UserType.PROVIDER, locations=[a1], groups=[group])
    provider = await make_provider(staff.user, "Dr Dana Reyes")
    ids = {}
    for status in ClientStatus:
        client = await make_client(org_a, a1, "Client", status.value.title(), provider=provider, status=status)
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
