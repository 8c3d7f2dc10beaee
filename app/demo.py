"""The demo clinic `make run` serves: loaded once (a second run changes nothing), logins printed."""

from __future__ import annotations

import uuid

from tortoise.transactions import in_transaction

from models.organization import Location, Organization
from resolvers.organizations import create_organization

DEMO_SLUG = "demo"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "maple-grove-clinic-2026"

LOCATIONS = [
    {
        "name": "Downtown",
        "timezone": "America/Toronto",
        "phone": "+14165550100",
        "address_line1": "100 King St W",
        "address_city": "Toronto",
        "address_province": "ON",
        "address_postal_code": "M5X 1A9",
        "address_country": "CA",
    },
    {
        "name": "Uptown",
        "timezone": "America/Toronto",
        "phone": "+14165550200",
        "address_line1": "2300 Yonge St",
        "address_city": "Toronto",
        "address_province": "ON",
        "address_postal_code": "M4P 1E4",
        "address_country": "CA",
    },
]

# Later parts of the demo, in order. Each module defines `async def load(org, locations) -> None`
# (locations by name; inside the demo's one transaction) and may define `LOGINS: list[str]`,
# lines added to the printed logins.
STEP_MODULES = ("app.demo_staff", "app.demo_clinical")


def _steps() -> list:
    import importlib
    import importlib.util

    return [importlib.import_module(m) for m in STEP_MODULES if importlib.util.find_spec(m) is not None]


def logins_text() -> str:
    lines = [
        "Demo clinic loaded. Open http://127.0.0.1:8000/graphql and log in with:",
        f'  mutation {{ login(input: {{organizationSlug: "{DEMO_SLUG}", username: "{ADMIN_USERNAME}", '
        f'password: "{ADMIN_PASSWORD}"}}) {{ token errors {{ code message }} }} }}',
        "then send the token as the header  Authorization: Bearer <token>  and run",
        "  { viewer { user { displayName } organization { name } } }",
        "",
        "Demo logins (organization slug: demo):",
        f"  {ADMIN_USERNAME:<14} {ADMIN_PASSWORD:<28} administrator, every permission",
    ]
    for step in _steps():
        lines.extend(getattr(step, "LOGINS", []))
    return "\n".join(lines)


async def load_demo() -> str:
    """Create the demo organization unless it exists; return the text with the logins."""
    if await Organization.exists(slug=DEMO_SLUG):
        return "The demo clinic is already loaded.\n" + logins_text()
    async with in_transaction():
        created = await create_organization(
            name="Maple Grove Physiotherapy",
            slug=DEMO_SLUG,
            admin_username=ADMIN_USERNAME,
            admin_password=ADMIN_PASSWORD,
            admin_email="admin@maplegrove.example",
            admin_first_name="Alex",
            admin_last_name="Morgan",
            seat_limit=25,
        )
        org = created.organization
        locations = {}
        for spec in LOCATIONS:
            locations[spec["name"]] = await Location.create(
                id=uuid.uuid4(), organization=org, name_key=spec["name"].lower(), **spec
            )
        for step in _steps():
            await step.load(org, locations)
    return logins_text()
