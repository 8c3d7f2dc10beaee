"""Each kind's two scoping rules say the same thing (permissions/scoping.py, docs/architecture.md "Principals and
grants").

A path that checks rows already loaded uses the predicate (`can_see_location`, `can_see_user`,
`can_see_provider`, `can_see_client`); a path that asks the database uses the row filter
(`location_q`, `user_q`, `provider_q`, `client_q`). If the two ever drifted, a page, a count, a
DataLoader and a one-row lookup could disagree about the same row. So, over a world of two
organizations and principals of every shape, for every principal and every kind: the ids the row
filter returns from the database are exactly the rows of either organization the predicate admits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from models.clients import Client
from models.enums import ClientStatus
from models.organization import Location
from models.providers import Provider
from models.users import User, UserLocation
from permissions.catalog import Permission as P
from permissions.grants import ALL, Grants, Scope, admin_grants
from permissions.principal import Principal, PrincipalKind
from permissions.scoping import (
    can_see_client,
    can_see_location,
    can_see_provider,
    can_see_user,
    client_q,
    location_q,
    provider_q,
    user_q,
)
from tests.factories import Factory, Org, make_client, make_provider


@dataclass
class World:
    """Rows by name (per kind) and principals by name."""

    org_ids: list[str]
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)

    def name_of(self, kind: str, row_id: str) -> str:
        names = {v: k for k, v in self.rows[kind].items()}
        return names.get(row_id, row_id)


def principal(org: Org, user: User | None, grants: Grants, sites: Scope, **extra: Any) -> Principal:
    """A principal as the request would build it: `sites` is where it works (active ones only)."""
    kind = PrincipalKind.USER if user is not None else PrincipalKind.INTEGRATION
    return Principal(kind=kind, organization=org.organization, grants=grants, user=user, sites=sites, **extra)


def ids(*locations: Location) -> frozenset[str]:
    return frozenset(str(loc.id) for loc in locations)


async def build_world(factory: Factory, a: Org, b: Org) -> World:
    """Org A: A1, A2 and an inactive A3; users of every site shape (admin, all-locations,
    multi-site, inactive-site-only, no site, inactive); providers at one, several or every site;
    clients with and without a primary provider, archived, at the inactive location. Org B: the
    same kinds once each, which no principal of A may see."""
    a1, a2 = a.locations
    a3 = await factory.location(a.organization, "clinic-a site 3 (closed)", active=False)
    b1, b2 = b.locations
    org = a.organization

    async def user(name: str, *at: Location, **extra: Any) -> User:
        return (await factory.user(org, username=name, locations=list(at), session=False, **extra)).user

    users = {
        "admin_a": a.admin.user,
        "everywhere": await user("everywhere", all_locations=True),
        "multi": await user("multi", a1, a2),
        "at_a2": await user("at_a2", a2),
        "closed_site_only": await user("closed_site_only", a3),
        "no_site": await user("no_site"),
        "inactive_at_a1": await user("inactive_at_a1", a1, active=False),
        "dr_a1": await user("dr_a1", a1),
        "dr_a2": await user("dr_a2", a2),
        "dr_all": await user("dr_all", all_locations=True),
        "reader_a1": await user("reader_a1", a1),
        "clerk_a2": await user("clerk_a2", a2),
        "admin_b": b.admin.user,
        "staff_b1": (await factory.user(b.organization, username="staff_b1", locations=[b1], session=False)).user,
    }
    providers = {
        name: await make_provider(users[name])
        for name in ("dr_a1", "dr_a2", "dr_all", "multi", "closed_site_only", "staff_b1")
    }
    clients = {
        "a1_own_dr_a1": await make_client(a, a1, "Ann", "One", primary_provider=providers["dr_a1"]),
        "a1_no_provider": await make_client(a, a1, "Ben", "Two"),
        "a2_own_dr_a1": await make_client(a, a2, "Cal", "Three", primary_provider=providers["dr_a1"]),
        "a2_dr_a2": await make_client(a, a2, "Dee", "Four", primary_provider=providers["dr_a2"]),
        "a2_multi": await make_client(a, a2, "Eve", "Five", primary_provider=providers["multi"]),
        "a1_archived_dr_a1": await make_client(
            a, a1, "Fay", "Six", primary_provider=providers["dr_a1"], status=ClientStatus.ARCHIVED
        ),
        "a3_dr_all": await make_client(a, a3, "Gus", "Seven", primary_provider=providers["dr_all"]),
        "b1_staff_b1": await make_client(b, b1, "Hal", "Eight", primary_provider=providers["staff_b1"]),
    }
    world = World(org_ids=[a.id, b.id])
    world.rows = {
        "location": {"A1": str(a1.id), "A2": str(a2.id), "A3_closed": str(a3.id), "B1": str(b1.id), "B2": str(b2.id)},
        "user": {name: str(u.id) for name, u in users.items()},
        "provider": {name: str(p.id) for name, p in providers.items()},
        "client": {name: str(c.id) for name, c in clients.items()},
    }
    world.principals = {
        "admin": principal(a, users["admin_a"], admin_grants(), ALL),
        "users_read_a1": principal(a, users["reader_a1"], Grants({P.USERS_READ: ids(a1)}), ids(a1)),
        "own_clients_provider_a1": principal(a, users["dr_a1"], Grants({P.CLIENTS_READ_OWN: ids(a1)}), ids(a1)),
        "own_clients_provider_everywhere": principal(a, users["dr_all"], Grants({P.CLIENTS_READ_OWN: ALL}), ALL),
        "clients_read_a2": principal(a, users["clerk_a2"], Grants({P.CLIENTS_READ: ids(a2)}), ids(a2)),
        "providers_read_a1": principal(a, users["reader_a1"], Grants({P.PROVIDERS_READ: ids(a1)}), ids(a1)),
        "locations_manage": principal(a, users["at_a2"], Grants({P.LOCATIONS_MANAGE: ALL}), ids(a2)),
        "everywhere_reads_at_one_site": principal(
            a,
            users["everywhere"],
            Grants({P.USERS_READ: ids(a2), P.PROVIDERS_READ: ids(a2), P.CLIENTS_READ: ids(a1)}),
            ALL,
        ),
        "nothing": principal(a, users["no_site"], Grants(), frozenset()),
        "integration_without_user": principal(
            a, None, Grants({P.CLIENTS_READ_OWN: ALL, P.USERS_READ: ids(a1), P.PROVIDERS_READ: ALL}), ids(a1)
        ),
        "other_organization_admin": principal(b, users["admin_b"], admin_grants(), ALL),
        # Linked to two clients of A, and (as if forged) holding the id of B's client: the
        # organization rule still hides that one.
        "portal_parent": Principal(
            kind=PrincipalKind.PORTAL_ACCOUNT,
            organization=a.organization,
            grants=Grants(),
            sites=frozenset(),
            client_ids=frozenset(str(clients[n].id) for n in ("a1_no_provider", "a2_dr_a2", "b1_staff_b1")),
        ),
    }
    return world


# --------------------------------------------------------------------------- each kind, both ways


async def _sites_by_user(org_ids: list[str]) -> dict[str, list[str]]:
    """Every location each user is linked to, active or not (what the user paths pass)."""
    sites: dict[str, list[str]] = {}
    for uid, lid in await UserLocation.filter(organization_id__in=org_ids).values_list("user_id", "location_id"):
        sites.setdefault(str(uid), []).append(str(lid))
    return sites


async def locations_by_predicate(p: Principal, org_ids: list[str]) -> set[str]:
    rows = await Location.filter(organization_id__in=org_ids)
    return {str(r.id) for r in rows if can_see_location(p, str(r.id), organization_id=str(r.organization_id))}


async def users_by_predicate(p: Principal, org_ids: list[str]) -> set[str]:
    sites = await _sites_by_user(org_ids)
    return {
        str(u.id)
        for u in await User.filter(organization_id__in=org_ids)
        if can_see_user(p, str(u.id), u.all_locations, sites.get(str(u.id), []), organization_id=str(u.organization_id))
    }


async def providers_by_predicate(p: Principal, org_ids: list[str]) -> set[str]:
    sites = await _sites_by_user(org_ids)
    return {
        str(row.id)
        for row in await Provider.filter(organization_id__in=org_ids).select_related("user")
        if can_see_provider(
            p, row.user.all_locations, sites.get(str(row.user_id), []), organization_id=str(row.organization_id)
        )
    }


async def clients_by_predicate(p: Principal, org_ids: list[str]) -> set[str]:
    rows = await Client.filter(organization_id__in=org_ids).select_related("primary_provider")
    return {
        str(c.id)
        for c in rows
        if can_see_client(
            p,
            str(c.location_id),
            str(c.primary_provider.user_id) if c.primary_provider else None,
            organization_id=str(c.organization_id),
            client_id=str(c.id),
        )
    }


async def _ids(model: Any, q: Any) -> set[str]:
    return {str(i) for i in await model.filter(q).values_list("id", flat=True)}


PAIRS: dict[
    str, tuple[Callable[[Principal, list[str]], Awaitable[set[str]]], Callable[[Principal], Awaitable[set[str]]]]
] = {
    "location": (locations_by_predicate, lambda p: _ids(Location, location_q(p))),
    "user": (users_by_predicate, lambda p: _ids(User, user_q(p))),
    "provider": (providers_by_predicate, lambda p: _ids(Provider, provider_q(p))),
    "client": (clients_by_predicate, lambda p: _ids(Client, client_q(p))),
}


def _names(world: World, kind: str, row_ids: Iterable[str]) -> list[str]:
    return sorted(world.name_of(kind, i) for i in row_ids)


@pytest.mark.parametrize("kind", sorted(PAIRS))
async def test_predicate_and_row_filter_agree(factory: Factory, org_a: Org, org_b: Org, kind: str) -> None:
    world = await build_world(factory, org_a, org_b)
    by_predicate, by_filter = PAIRS[kind]
    disagreements = {}
    for name, p in world.principals.items():
        expected = await by_predicate(p, world.org_ids)
        found = await by_filter(p)
        if found != expected:
            disagreements[name] = {
                "filter only": _names(world, kind, found - expected),
                "predicate only": _names(world, kind, expected - found),
            }
    assert disagreements == {}


# --------------------------------------------------------------------------- the world is not trivial

# What some principals see, by name: the agreement above would hold as well if both rules were
# wrong in the same way, or if the world hid every difference; these pin the rules themselves.
EXPECTED: list[tuple[str, str, set[str]]] = [
    ("locations_manage", "location", {"A1", "A2", "A3_closed"}),
    ("users_read_a1", "location", {"A1"}),
    ("nothing", "location", set()),
    ("other_organization_admin", "location", {"B1", "B2"}),
    ("nothing", "user", {"no_site"}),
    (
        "users_read_a1",
        "user",
        {"admin_a", "everywhere", "multi", "inactive_at_a1", "dr_a1", "dr_all", "reader_a1"},
    ),
    (
        "integration_without_user",
        "user",
        {"admin_a", "everywhere", "multi", "inactive_at_a1", "dr_a1", "dr_all", "reader_a1"},
    ),
    ("providers_read_a1", "provider", {"dr_a1", "dr_all", "multi"}),
    ("everywhere_reads_at_one_site", "provider", {"dr_a2", "dr_all", "multi"}),
    ("own_clients_provider_a1", "client", {"a1_own_dr_a1", "a1_archived_dr_a1"}),
    ("own_clients_provider_everywhere", "client", {"a3_dr_all"}),
    ("clients_read_a2", "client", {"a2_own_dr_a1", "a2_dr_a2", "a2_multi"}),
    ("integration_without_user", "client", set()),
    (
        "admin",
        "client",
        {"a1_own_dr_a1", "a1_no_provider", "a2_own_dr_a1", "a2_dr_a2", "a2_multi", "a1_archived_dr_a1", "a3_dr_all"},
    ),
    ("other_organization_admin", "client", {"b1_staff_b1"}),
    ("portal_parent", "client", {"a1_no_provider", "a2_dr_a2"}),
    ("portal_parent", "user", set()),
    ("portal_parent", "provider", set()),
    ("portal_parent", "location", set()),
]


async def test_the_rules_see_what_design_says(factory: Factory, org_a: Org, org_b: Org) -> None:
    world = await build_world(factory, org_a, org_b)
    wrong = {}
    for name, kind, expected in EXPECTED:
        seen = set(_names(world, kind, await PAIRS[kind][1](world.principals[name])))
        if seen != expected:
            wrong[(name, kind)] = sorted(seen)
    assert wrong == {}
