"""The demo's staff: three permission groups and a dozen users in every state the API can show.

Groups: "Front desk" and "Billing" (every location) and "Uptown managers" (restricted to Uptown).
Users: enabled, invited (registration email pending), no access, inactive, expired, password reset
required, with and without a PIN, one working at every location. Rows are written straight to the
tables (the demo runs inside its one transaction, with no request to act through); passwords are
hashed once per distinct password, since argon2 is deliberately slow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.enums import AccessStatus, UserType
from models.groups import GroupLocation, GroupMembership, PermissionGroup
from models.organization import Location, Organization
from models.users import User, UserLocation
from permissions.catalog import Permission as P
from resolvers.credentials import hash_secret

MANAGER_PASSWORD = "harbour-willow-ledger-31"
FRONT_DESK_PASSWORD = "saffron-kettle-meadow-64"
STAFF_PASSWORD = "granite-poppy-lantern-19"
DEMO_PIN = "4826"

GROUPS: dict[str, dict[str, Any]] = {
    "Front desk": {
        "description": "Reception: staff directory, clients and their portal access.",
        "permissions": [P.USERS_READ, P.PROVIDERS_READ, P.CLIENTS_READ, P.CLIENTS_MANAGE, P.CLIENT_PORTAL_MANAGE],
        "locations": None,
    },
    "Billing": {
        "description": "Billing office: provider billing numbers and client coverage.",
        "permissions": [P.PROVIDERS_READ, P.BILLING_READ, P.BILLING_MANAGE, P.CLIENTS_READ, P.CLIENTS_COVERAGE_READ],
        "locations": None,
    },
    "Uptown managers": {
        "description": "Manage the Uptown staff: users, their access and credentials.",
        "permissions": [
            P.USERS_READ,
            P.USERS_MANAGE,
            P.USERS_ACCESS_MANAGE,
            P.USERS_CREDENTIALS_RESET,
            P.PROVIDERS_READ,
            P.CLIENTS_READ,
        ],
        "locations": ["Uptown"],
    },
}

# username, first, last, type, sites (None: every location), groups, state
STAFF: list[tuple[str, str, str, UserType, list[str] | None, list[str], dict[str, Any]]] = [
    ("morgan.manager", "Morgan", "Reid", UserType.MANAGER, ["Uptown"], ["Uptown managers"], {"password": "manager"}),
    ("frida.desk", "Frida", "Lopez", UserType.FRONT_DESK, ["Downtown"], ["Front desk"], {"password": "front"}),
    ("omar.desk", "Omar", "Said", UserType.FRONT_DESK, ["Uptown"], ["Front desk"], {"pin": False}),
    ("bea.billing", "Bea", "Chen", UserType.BILLING, None, ["Billing"], {}),
    ("tom.temp", "Tom", "Hardy", UserType.FRONT_DESK, ["Downtown"], ["Front desk"], {"expires_in_days": 14}),
    ("ella.expired", "Ella", "Stone", UserType.FRONT_DESK, ["Uptown"], ["Front desk"], {"expires_in_days": -3}),
    ("ian.inactive", "Ian", "Brooks", UserType.OTHER, ["Downtown"], ["Front desk"], {"active": False}),
    ("rita.reset", "Rita", "Young", UserType.BILLING, ["Downtown"], ["Billing"], {"reset": True}),
    ("nina.invited", "Nina", "Park", UserType.FRONT_DESK, ["Uptown"], ["Front desk"], {"access": "INVITED"}),
    ("paul.noaccess", "Paul", "Grant", UserType.OTHER, ["Downtown"], [], {"access": "NO_ACCESS"}),
    ("gus.nogroup", "Gus", "Ward", UserType.OTHER, ["Downtown", "Uptown"], [], {}),
    ("uma.uptown", "Uma", "Fox", UserType.MANAGER, ["Downtown", "Uptown"], ["Uptown managers", "Front desk"], {}),
]

PASSWORDS = {"manager": MANAGER_PASSWORD, "front": FRONT_DESK_PASSWORD, "staff": STAFF_PASSWORD}


def _login_row(
    username: str, kind: UserType, sites: list[str] | None, member_of: list[str], state: dict[str, Any]
) -> tuple[str, str | None, str, str]:
    """One row of the printed table (app/demo.py `LOGINS`), read from the same STAFF entry `load` writes."""
    where = "every location" if sites is None else " + ".join(sites)
    groups = f"groups: {' + '.join(member_of)}" if member_of else "no permission group"
    role = f"{kind.value.lower().replace('_', ' ')} at {where}; {groups}"
    access = AccessStatus(state.get("access", "ENABLED"))
    expires = state.get("expires_in_days")
    if access is AccessStatus.INVITED:
        return username, None, role, "invited: sets a password from the registration email"
    password = PASSWORDS[state.get("password", "staff")]
    if not state.get("active", True):
        return username, password, role, "login refused (ACCOUNT_INACTIVE): deactivated"
    if expires is not None and expires < 0:
        return username, password, role, f"login refused (ACCOUNT_EXPIRED): expired {-expires} days ago"
    if access is AccessStatus.NO_ACCESS:
        return username, password, role, "login refused (ACCESS_NOT_ENABLED): login access not enabled"
    notes = [f"PIN {DEMO_PIN}" if state.get("pin", True) else "no PIN"]
    if expires is not None:
        notes.append(f"expires in {expires} days")
    if state.get("reset"):
        notes.append("must choose a new password first")
    if not member_of:
        notes.append("sees only itself")
    return username, password, role, "can log in; " + ", ".join(notes)


LOGINS = [_login_row(username, kind, sites, groups, state) for username, _, _, kind, sites, groups, state in STAFF]


async def _groups(org: Organization, locations: dict[str, Location]) -> dict[str, PermissionGroup]:
    groups = {}
    for name, spec in GROUPS.items():
        group = await PermissionGroup.create(
            organization=org,
            name=name,
            description=spec["description"],
            permission_codes=",".join(p.value for p in spec["permissions"]),
            all_locations=spec["locations"] is None,
        )
        for site in spec["locations"] or []:
            await GroupLocation.create(organization=org, group=group, location=locations[site])
        groups[name] = group
    return groups


async def add_user(
    org: Organization,
    username: str,
    first: str,
    last: str,
    kind: UserType,
    *,
    sites: list[Location],
    groups: list[PermissionGroup],
    **fields: Any,
) -> User:
    """A demo user working at `sites` in `groups`, mailed at the demo's domain: every demo step makes
    its users here."""
    user = await User.create(
        organization=org,
        username=username,
        first_name=first,
        last_name=last,
        type=kind,
        email=f"{username}@maplegrove.example",
        **fields,
    )
    for site in sites:
        await UserLocation.create(organization=org, user=user, location=site)
    for group in groups:
        await GroupMembership.create(organization=org, group=group, user=user)
    return user


async def load(org: Organization, locations: dict[str, Location]) -> None:
    """Groups and staff for the demo clinic (inside the demo's transaction)."""
    groups = await _groups(org, locations)
    hashes = {
        "manager": hash_secret(MANAGER_PASSWORD),
        "front": hash_secret(FRONT_DESK_PASSWORD),
        "staff": hash_secret(STAFF_PASSWORD),
    }
    pin = hash_secret(DEMO_PIN)
    now = datetime.now(UTC)
    for username, first, last, kind, sites, member_of, state in STAFF:
        access = AccessStatus(state.get("access", "ENABLED"))
        expires = state.get("expires_in_days")
        await add_user(
            org,
            username,
            first,
            last,
            kind,
            sites=[locations[site] for site in sites or []],
            groups=[groups[name] for name in member_of],
            is_active=state.get("active", True),
            expires_at=now + timedelta(days=expires) if expires is not None else None,
            password_hash=None if access is AccessStatus.INVITED else hashes[state.get("password", "staff")],
            pin_hash=pin if state.get("pin", True) else None,
            password_reset_required=state.get("reset", False),
            access_status=access,
            registration_email_sent_at=now if access is AccessStatus.INVITED else None,
            all_locations=sites is None,
        )
