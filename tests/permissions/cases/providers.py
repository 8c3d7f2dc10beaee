"""Matrix rows for providers: provider, providers, updateProvider, deactivateProvider,
cancelProviderDeactivation, reactivateProvider (article 003).

The world hook adds provider rows to org A (provider_a1's own profile at A1, one at A2, one scheduled
for deactivation and one inactive, both at A1), one to org B, and a principal `provider_manager_a1`
holding PROVIDERS_READ / PROVIDERS_MANAGE / PROVIDERS_DEACTIVATE at A1 only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from models.enums import ProviderStatus, UserType
from models.providers import Provider
from models.users import User
from permissions.catalog import Permission as P
from tests.factories import Factory, make_provider
from tests.permissions.cases.base import Row, location_id, no_token, rows
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, NOT_FOUND, OK
from tests.permissions.world import World, WorldStep

PROVIDER_MANAGER = [P.PROVIDERS_READ, P.PROVIDERS_MANAGE, P.PROVIDERS_DEACTIVATE]
BILLING_CLERK = [P.PROVIDERS_READ, P.BILLING_READ, P.BILLING_MANAGE]


async def own_provider(user: User) -> Provider:
    """provider_a1's profile; the clients step, which runs earlier (`WORLD` in test_matrix.py), has made it."""
    existing = await Provider.filter(user_id=user.id).first()
    if existing is None:
        return await make_provider(user, display_name="Dr Ada One", provincial="123456", group="AB12")
    existing.update_from_dict(
        {"display_name": "Dr Ada One", "provincial_billing_number": "123456", "group_billing_number": "AB12"}
    )
    await existing.save()
    return existing


async def add_providers(world: World, factory: Factory) -> None:
    a, b = world.a.organization, world.b.organization
    a1, a2 = world.a1, world.a2
    own = world.principals["provider_a1"]
    assert own is not None
    at_a2 = await factory.user(a, username="provider-a2", type=UserType.PROVIDER, locations=[a2], session=False)
    later = await factory.user(a, username="provider-later", type=UserType.PROVIDER, locations=[a1], session=False)
    gone = await factory.user(
        a, username="provider-gone", type=UserType.PROVIDER, locations=[a1], active=False, session=False
    )
    at_b1 = await factory.user(b, username="provider-b1", type=UserType.PROVIDER, locations=[world.b1], session=False)
    group = await factory.group(a, PROVIDER_MANAGER, name="Provider managers A1", locations=[a1])
    world.principals["provider_manager_a1"] = await factory.user(
        a, username="provmanager", type=UserType.MANAGER, locations=[a1, a2], groups=[group]
    )
    # A billing clerk: billing numbers at A1 (BILLING_MANAGE), no PROVIDERS_MANAGE anywhere.
    clerks = await factory.group(a, BILLING_CLERK, name="Billing clerks A1", locations=[a1])
    world.principals["billing_clerk_a1"] = await factory.user(
        a, username="billingclerk", type=UserType.BILLING, locations=[a1, a2], groups=[clerks]
    )
    # Providers whose users hold AUDIT_READ organization-wide: undoing their deactivation restores a
    # grant the provider manager does not hold (restoring is granting).
    auditors = await factory.group(a, [P.AUDIT_READ], name="Provider auditors")
    later_auditor = await factory.user(
        a, username="provider-later-auditor", locations=[a1], groups=[auditors], session=False
    )
    gone_auditor = await factory.user(
        a, username="provider-gone-auditor", locations=[a1], groups=[auditors], active=False, session=False
    )
    world.extra["providers"] = {
        "scheduled_auditor": await make_provider(
            later_auditor.user,
            display_name="Dr Fay Later",
            status=ProviderStatus.DEACTIVATION_SCHEDULED,
            deactivate_at=datetime.now(UTC) + timedelta(days=7),
        ),
        "inactive_auditor": await make_provider(
            gone_auditor.user, display_name="Dr Gus Gone", status=ProviderStatus.INACTIVE
        ),
        "a1": await own_provider(own.user),
        "a2": await make_provider(at_a2.user, display_name="Dr Bea Two"),
        "scheduled": await make_provider(
            later.user,
            display_name="Dr Cy Later",
            status=ProviderStatus.DEACTIVATION_SCHEDULED,
            deactivate_at=datetime.now(UTC) + timedelta(days=7),
        ),
        "inactive": await make_provider(gone.user, display_name="Dr Di Gone", status=ProviderStatus.INACTIVE),
        "b1": await make_provider(at_b1.user, display_name="Dr Ed Bee"),
    }


WORLD = (
    WorldStep(add_providers, adds=("provider_manager_a1", "billing_clerk_a1", "providers"), needs=("provider_a1",)),
)


def _id(w: World, name: str) -> str:
    return str(w.extra["providers"][name].id)


def provider(name: str, fields: str = "id displayName status"):
    return lambda w: (f"query($id: ID!) {{ provider(id: $id) {{ {fields} }} }}", {"id": _id(w, name)})


def billing_of(name: str):
    """provider(id) asking for its billing numbers (BILLING_READ)."""
    return provider(name, "id billing { provincialBillingNumber groupBillingNumber }")


def providers(location: str | None = None):
    def build(w: World) -> tuple[str, dict[str, Any]]:
        filter_ = {"locationId": location_id(w, location)} if location else {}
        return (
            "query($f: ProviderFilter) { providers(filter: $f) { totalCount edges { node { id displayName } } } }",
            {"f": filter_},
        )

    return build


NEW_NUMBER = {"provincialBillingNumber": "654321"}  # a billing number change: BILLING_MANAGE
PAYLOAD = "provider { id status version } reassignedClientCount errors { code field }"


def mutation(operation: str, input_type: str, name: str, **extra: Any):
    def build(w: World) -> tuple[str, dict[str, Any]]:
        return (
            f"mutation($input: {input_type}!) {{ {operation}(input: $input) {{ {PAYLOAD} }} }}",
            {"input": {"id": _id(w, name), **extra}},
        )

    return build


def update(name: str, **extra: Any):
    return mutation("updateProvider", "UpdateProviderInput", name, **{"specialty": "Physiotherapy", **extra})


def billing(name: str, **extra: Any):
    """updateProvider changing only the given fields (billing numbers: BILLING_MANAGE alone)."""
    return mutation("updateProvider", "UpdateProviderInput", name, **extra)


def deactivate(name: str):
    return mutation("deactivateProvider", "DeactivateProviderInput", name)


def cancel(name: str):
    return mutation("cancelProviderDeactivation", "CancelProviderDeactivationInput", name)


def reactivate(name: str):
    return mutation("reactivateProvider", "ReactivateProviderInput", name)


def names_are(*expected: str):
    def check(w: World, data: Any) -> None:
        assert sorted(e["node"]["displayName"] for e in data["edges"]) == sorted(expected)
        assert data["totalCount"] == len(expected)

    return check


def billing_is(provincial: str):
    def check(w: World, data: Any) -> None:
        assert data["billing"]["provincialBillingNumber"] == provincial

    return check


def status_is(status: str):
    def check(w: World, data: Any) -> None:
        assert data["provider"]["status"] == status

    return check


def clerk(case: str, target: str, expected: str, document: Any) -> Row:
    """A row for billing_clerk_a1: BILLING_MANAGE at A1, and no PROVIDERS_MANAGE anywhere."""
    return (case, "billing_clerk_a1", target, expected, document)


def out_of_reach(document: Callable[[str], Any]) -> list[Row]:
    """The refusals updateProvider and deactivateProvider share: a provider at a location the provider
    manager does not hold, another organization's, and no session. `document(name)` aims at a provider."""
    return [
        ("cross-location", "provider_manager_a1", "provider at A2", NOT_FOUND, document("a2")),
        ("other organization", "admin_b", "provider of org A", NOT_FOUND, document("a1")),
        no_token("provider at A1", document("a1")),
    ]


def undoing(document: Callable[[str], Any], name: str, *more: Row) -> list[Row]:
    """cancelProviderDeactivation and reactivateProvider alike: both give the provider named `name` back
    its grants (restoring is granting). `more` stand before the no-token row."""
    return [
        ("admin", "admin_a", f"{name} at A1", OK, document(name), status_is("ACTIVE")),
        ("PROVIDERS_DEACTIVATE at A1", "provider_manager_a1", name, OK, document(name)),
        (
            "restores a grant the actor lacks",
            "provider_manager_a1",
            f"{name} auditor",
            DENIED_INPUT,
            document(f"{name}_auditor"),
        ),
        ("other organization", "admin_b", name, NOT_FOUND, document(name)),
        *more,
        no_token(name, document(name)),
    ]


A1_VISIBLE = ("Dr Ada One", "Dr Cy Later", "Dr Di Gone", "Dr Fay Later", "Dr Gus Gone")

CASES = [
    # provider(id)
    *rows(
        "provider",
        ("own org, any site", "admin_a", "provider at A2", OK, provider("a2")),
        ("PROVIDERS_READ at A1", "front_desk_a1", "provider at A1", OK, provider("a1")),
        ("cross-location", "front_desk_a1", "provider at A2", HIDDEN, provider("a2")),
        ("BILLING_READ sees billing", "billing_a1", "provider at A1", OK, billing_of("a1"), billing_is("123456")),
        ("own profile", "provider_a1", "own provider", OK, provider("a1")),
        ("restricted to A2", "restricted_a2", "provider at A2", OK, provider("a2")),
        ("restricted to A2, target at A1", "restricted_a2", "provider at A1", HIDDEN, provider("a1")),
        ("other organization", "admin_b", "provider of org A", HIDDEN, provider("a1")),
        ("no PROVIDERS_READ", "no_group", "provider at A1", FORBIDDEN, provider("a1")),
        no_token("provider at A1", provider("a1")),
    ),
    # providers
    *rows(
        "providers",
        ("all of org A", "admin_a", "org A", OK, providers(), names_are(*A1_VISIBLE, "Dr Bea Two")),
        ("only A1's", "front_desk_a1", "org A", OK, providers(), names_are(*A1_VISIBLE)),
        ("only A2's", "restricted_a2", "org A", OK, providers(), names_are("Dr Bea Two")),
        ("filter on an A2 location", "front_desk_a1", "A2", HIDDEN, providers("a2")),
        ("only own org", "admin_b", "org B", OK, providers(), names_are("Dr Ed Bee")),
        ("other org's location", "admin_b", "A1", HIDDEN, providers("a1")),
        ("no PROVIDERS_READ", "no_group", "org A", FORBIDDEN, providers()),
        no_token("org A", providers()),
    ),
    # updateProvider
    *rows(
        "updateProvider",
        ("admin", "admin_a", "provider at A2", OK, update("a2")),
        ("PROVIDERS_MANAGE at A1", "provider_manager_a1", "provider at A1", OK, update("a1")),
        (
            "billing numbers need BILLING_MANAGE",
            "provider_manager_a1",
            "provider at A1",
            DENIED_INPUT,
            update("a1", **NEW_NUMBER),
        ),
        ("no PROVIDERS_MANAGE", "front_desk_a1", "provider at A1", FORBIDDEN, update("a1")),
        ("BILLING_READ only", "billing_a1", "provider at A1", FORBIDDEN, update("a1")),
        ("own profile, no right", "provider_a1", "own provider", FORBIDDEN, update("a1")),
        # Each field its own permission: billing numbers BILLING_MANAGE alone, the profile PROVIDERS_MANAGE.
        clerk(
            "billing clerk, billing numbers only",
            "provider at A1",
            OK,
            billing("a1", **NEW_NUMBER, groupBillingNumber="ZZ99"),
        ),
        clerk("billing clerk, profile field", "provider at A1", DENIED_INPUT, billing("a1", specialty="Physiotherapy")),
        clerk(
            "billing clerk, billing numbers and a profile field",
            "provider at A1",
            DENIED_INPUT,
            update("a1", **NEW_NUMBER),
        ),
        clerk("billing clerk, provider at A2", "provider at A2", NOT_FOUND, billing("a2", **NEW_NUMBER)),
        ("BILLING_READ only, billing numbers", "billing_a1", "provider at A1", FORBIDDEN, billing("a1", **NEW_NUMBER)),
        *out_of_reach(update),
    ),
    # deactivateProvider
    *rows(
        "deactivateProvider",
        ("admin, now", "admin_a", "provider at A2", OK, deactivate("a2"), status_is("INACTIVE")),
        (
            "PROVIDERS_DEACTIVATE at A1",
            "provider_manager_a1",
            "provider at A1",
            OK,
            deactivate("a1"),
            status_is("INACTIVE"),
        ),
        ("front desk", "front_desk_a1", "provider at A1", FORBIDDEN, deactivate("a1")),
        ("own profile", "provider_a1", "own provider", FORBIDDEN, deactivate("a1")),
        ("restricted to A2", "restricted_a2", "provider at A2", FORBIDDEN, deactivate("a2")),
        *out_of_reach(deactivate),
    ),
    *rows(
        "cancelProviderDeactivation",
        *undoing(cancel, "scheduled", ("billing", "billing_a1", "scheduled", FORBIDDEN, cancel("scheduled"))),
    ),
    *rows(
        "reactivateProvider",
        *undoing(
            reactivate,
            "inactive",
            ("admin restores an auditor", "admin_a", "auditor", OK, reactivate("inactive_auditor")),
            ("front desk", "front_desk_a1", "inactive", FORBIDDEN, reactivate("inactive")),
            ("provider", "provider_a1", "inactive", FORBIDDEN, reactivate("inactive")),
        ),
    ),
]
