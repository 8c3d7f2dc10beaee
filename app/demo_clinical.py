"""The demo's clinical directory: six providers and two hundred clients across both locations.

Deterministic (random.Random(SEED)), so every `make run` shows the same clinic. Some clients carry
coverage with health cards that pass the Ontario check; a few pairs are near-duplicates (same date
of birth, similar names, one of them from online registration) for the merge work ahead. Runs after
app/demo_staff.py inside the demo's one transaction and depends on nothing it creates.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from app.demo_staff import add_user
from models.clients import Client
from models.enums import AccessStatus, ClientSource, ClientStatus, HealthCardCheck, UserType
from models.groups import PermissionGroup
from models.keys import search_key
from models.organization import Location, Organization
from models.providers import Provider
from models.users import User
from permissions.catalog import Permission
from resolvers.credentials import hash_secret

SEED = 2026
CLIENT_COUNT = 200
PROVIDER_PASSWORD = "cedar-lake-physio-2026"
GROUP_NAME = "Providers"
GROUP_PERMISSIONS = (Permission.CLIENTS_READ_OWN, Permission.PROVIDERS_READ)

# (username, first, last, specialty, locations by name; None: every location)
PROVIDERS: list[tuple[str, str, str, str, list[str] | None]] = [
    ("dr.patel", "Priya", "Patel", "Physiotherapy", ["Downtown"]),
    ("dr.nguyen", "Minh", "Nguyen", "Physiotherapy", ["Uptown"]),
    ("dr.okafor", "Chidi", "Okafor", "Chiropractic", None),
    ("dr.lambert", "Sophie", "Lambert", "Massage therapy", ["Downtown"]),
    ("dr.kowalski", "Jan", "Kowalski", "Occupational therapy", ["Uptown"]),
    ("dr.haddad", "Leila", "Haddad", "Kinesiology", ["Downtown", "Uptown"]),
]

# Every provider logs in (app/demo.py `LOGINS`): each sees its own clients, "My Clients".
LOGINS = [
    (
        username,
        PROVIDER_PASSWORD,
        f"provider ({specialty}) at {'every location' if where is None else ' + '.join(where)}; group: {GROUP_NAME}",
        "can log in; My Clients only (CLIENTS_READ_OWN)",
    )
    for username, _, _, specialty, where in PROVIDERS
]

FIRST_NAMES = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "William",
    "Ava",
    "James",
    "Sophia",
    "Benjamin",
    "Charlotte",
    "Lucas",
    "Mia",
    "Henry",
    "Harper",
    "Jack",
    "Evelyn",
    "Leo",
    "Abigail",
    "Owen",
    "Emily",
    "Ethan",
    "Chloe",
    "Samuel",
    "Zoe",
    "Jacob",
    "Lily",
    "Nathan",
    "Grace",
    "Daniel",
    "Aisha",
    "Mohammed",
    "Mei",
    "Wei",
    "Arjun",
    "Ananya",
    "Sofia",
    "Mateo",
    "Camille",
    "Louis",
    "Chloé",
    "Gabriel",
    "Isabelle",
    "Thomas",
    "Fatima",
    "Omar",
    "Yuki",
    "Hiro",
    "Ngozi",
    "Kwame",
]
LAST_NAMES = [
    "Smith",
    "Brown",
    "Tremblay",
    "Martin",
    "Roy",
    "Wilson",
    "MacDonald",
    "Gagnon",
    "Johnson",
    "Taylor",
    "Campbell",
    "Anderson",
    "Leblanc",
    "Lee",
    "White",
    "Thompson",
    "Côté",
    "Williams",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Young",
    "Singh",
    "Chen",
    "Wong",
    "Li",
    "Patel",
    "Kumar",
    "Khan",
    "Ali",
    "Nguyen",
    "Tran",
    "Kim",
    "Park",
    "Rossi",
    "Russo",
    "Silva",
    "Santos",
    "Cohen",
    "Levi",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Walsh",
    "Schmidt",
    "Müller",
    "Novak",
    "Kowalczyk",
    "Okafor",
]
# Near-duplicate pairs: (first, last) of the existing client and of its online registration.
NEAR_DUPLICATES = [
    (("Jonathan", "Smith"), ("Jon", "Smith")),
    (("Catherine", "Leblanc"), ("Katherine", "LeBlanc")),
    (("Mohammed", "Ali"), ("Mohamed", "Ali")),
    (("Sarah", "O'Connor"), ("Sara", "OConnor")),
    (("Zoë", "Tremblay"), ("Zoe", "Tremblay")),
]
LANGUAGES = ["en"] * 8 + ["fr", "fr-CA"]
PRONOUNS = [None, None, "she/her", "he/him", "they/them"]


def ontario_card(rng: random.Random) -> str:
    """Ten digits whose last is the Luhn check digit (so `healthCardCheck` is VALID)."""
    body = [rng.randint(0, 9) for _ in range(9)]
    body[0] = rng.randint(1, 9)
    total = 0
    for i, d in enumerate(reversed(body)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return "".join(map(str, body)) + str((10 - total % 10) % 10)


def birth_date(rng: random.Random) -> date:
    """A date of birth from 1940 to 2022."""
    return date(1940, 1, 1) + timedelta(days=rng.randint(0, 30000))


async def _provider_group(org: Organization) -> PermissionGroup:
    """The "Providers" group (reused, with CLIENTS_READ_OWN added, if an earlier step made one)."""
    group = await PermissionGroup.filter(organization_id=org.id, name_key=search_key(GROUP_NAME)).first()
    wanted = {p.value for p in GROUP_PERMISSIONS}
    if group is None:
        return await PermissionGroup.create(
            organization=org,
            name=GROUP_NAME,
            description="Clinicians: their own clients (My Clients) and the provider directory.",
            permission_codes=",".join(sorted(wanted)),
            all_locations=True,
        )
    missing = wanted - set(group.codes)
    if missing:
        group.permission_codes = ",".join([*group.codes, *sorted(missing)])
        await group.save(update_fields=["permission_codes"])
    return group


async def _providers(org: Organization, locations: dict[str, Location]) -> list[tuple[Provider, list[Location]]]:
    group = await _provider_group(org)
    password = hash_secret(PROVIDER_PASSWORD)
    result = []
    for username, first, last, specialty, where in PROVIDERS:
        if await User.exists(organization_id=org.id, username_key=search_key(username)):
            continue  # an earlier step already has this username: leave it alone
        sites = list(locations.values()) if where is None else [locations[n] for n in where if n in locations]
        user = await add_user(
            org,
            username,
            first,
            last,
            UserType.PROVIDER,
            sites=sites if where is not None else [],
            groups=[group],
            password_hash=password,
            access_status=AccessStatus.ENABLED,
            all_locations=where is None,
        )
        provider = await Provider.create(
            organization=org, user=user, display_name=f"{first} {last}", specialty=specialty
        )
        result.append((provider, sites))
    return result


def _client(
    rng: random.Random,
    org: Organization,
    location: Location,
    provider: Provider | None,
    first: str,
    last: str,
    n: int,
    **extra: Any,
) -> Client:
    email = f"{first}.{last}{n}@example.com".lower().replace("'", "").replace(" ", "")
    mobile = f"+1{rng.choice(['416', '647', '437'])}555{rng.randint(100, 199):04d}"
    has_mobile = rng.random() < 0.85
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "organization_id": org.id,
        "location_id": location.id,
        "primary_provider_id": provider.id if provider else None,
        "first_name": first,
        "last_name": last,
        "email": email,
        "mobile": mobile if has_mobile else None,
        "sms_consent": has_mobile and rng.random() < 0.7,
        "date_of_birth": birth_date(rng),
        "preferred_language": rng.choice(LANGUAGES),
        "pronouns": rng.choice(PRONOUNS),
        "timezone": location.timezone,
        "address_city": "Toronto",
        "address_province": "ON",
        "address_country": "CA",
    }
    if rng.random() < 0.4:
        values.update(
            health_card_province="ON",
            health_card_number=ontario_card(rng),
            health_card_version="".join(rng.choice("ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(2)),
            health_card_check=HealthCardCheck.VALID,
            fee_program=rng.choice(["OHIP", "WSIB", "Private"]),
            sessions_authorized=rng.choice([None, 6, 10, 12]),
        )
    if rng.random() < 0.05:
        values["alert"] = rng.choice(["Latex allergy", "Uses a wheelchair: ground floor room", "Prefers afternoons"])
    if rng.random() < 0.04:
        values["status"] = ClientStatus.ARCHIVED
    values.update(extra)
    return Client(**values)


async def load(org: Organization, locations: dict[str, Location]) -> None:
    rng = random.Random(SEED)
    providers = await _providers(org, locations)
    sites = list(locations.values())
    clients: list[Client] = []
    for n in range(CLIENT_COUNT - 2 * len(NEAR_DUPLICATES)):
        location = sites[n % len(sites)]
        here = [p for p, at in providers if location in at]
        provider = rng.choice(here) if here and rng.random() < 0.8 else None
        clients.append(_client(rng, org, location, provider, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), n))
    for i, ((first, last), (dup_first, dup_last)) in enumerate(NEAR_DUPLICATES):
        location = sites[i % len(sites)]
        original = _client(rng, org, location, None, first, last, 1000 + i)
        clients.append(original)
        clients.append(
            _client(
                rng,
                org,
                location,
                None,
                dup_first,
                dup_last,
                2000 + i,
                date_of_birth=original.date_of_birth,
                mobile=original.mobile,
                status=ClientStatus.PENDING_REVIEW,
                source=ClientSource.ONLINE_REGISTRATION,
            )
        )
    await Client.bulk_create(clients, batch_size=100)
