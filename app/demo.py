"""The demo clinic `make run` serves: loaded once (a second run changes nothing), logins printed."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.settings import Settings
from models.organization import Location, Organization
from resolvers.organizations import create_organization

DEMO_SLUG = "demo"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "maple-grove-clinic-2026"
DEFAULT_PUBLIC_URL = Settings.public_url

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
# (locations by name; inside the demo's one transaction) and may define `LOGINS`, rows of the printed
# table: (username, password or None when it has none yet, role, state), and `PORTAL_LOGINS`, rows of
# the client portal's: (email, password, who). A state starting "can log
# in" means the password works; otherwise it starts "login refused" and names the error code
# (tests/resolvers/test_users_demo.py tries every row).
STEP_MODULES = ("app.demo_staff", "app.demo_clinical", "app.demo_portal", "app.demo_integrations")


def _steps() -> list:
    import importlib
    import importlib.util

    return [importlib.import_module(m) for m in STEP_MODULES if importlib.util.find_spec(m) is not None]


LoginRow = tuple[str, str | None, str, str]
NO_PASSWORD = "(none yet)"


def login_rows() -> list[LoginRow]:
    """Every demo login: the administrator, then each step's rows."""
    rows: list[LoginRow] = [(ADMIN_USERNAME, ADMIN_PASSWORD, "administrator, every permission", "can log in")]
    for step in _steps():
        rows.extend(getattr(step, "LOGINS", []))
    return rows


def portal_login_rows() -> list[tuple[str, str, str]]:
    """Every demo portal login: (email, password, who)."""
    return [row for step in _steps() for row in getattr(step, "PORTAL_LOGINS", [])]


def login_table(rows: list[LoginRow]) -> list[str]:
    """The rows as aligned columns (two spaces or more between them, so a value may hold one)."""
    cells = [("username", "password", "role", "state")] + [
        (username, password or NO_PASSWORD, role, state) for username, password, role, state in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[3] for row in cells]


def logins_text(public_url: str = DEFAULT_PUBLIC_URL, *, loaded_now: bool = True) -> str:
    """What `tessera demo` prints: one headline (loaded now, or before), the URL the server is reached
    at (TESSERA_PUBLIC_URL, which `make run` derives from HOST and PORT), and every demo login."""
    headline = "Demo clinic loaded." if loaded_now else "The demo clinic is already loaded (nothing changed)."
    lines = [
        f"{headline} Open {public_url.rstrip('/')}/graphql and log in with:",
        f'  mutation {{ login(input: {{organizationSlug: "{DEMO_SLUG}", username: "{ADMIN_USERNAME}", '
        f'password: "{ADMIN_PASSWORD}"}}) {{ token errors {{ code message }} }} }}',
        "then send the token as the header  Authorization: Bearer <token>  and run",
        "  { viewer { user { displayName } organization { name } } }",
        "",
        f"Demo logins (organization slug: {DEMO_SLUG}); each password works only where its state says so:",
        *login_table(login_rows()),
        "",
        "Client portal logins (a portal account sees only the clients it is linked to):",
        *[
            f'  mutation {{ portalLogin(input: {{organizationSlug: "{DEMO_SLUG}", email: "{email}", '
            f'password: "{password}"}}) {{ token errors {{ code }} }} }}  # {who}'
            for email, password, who in portal_login_rows()
        ],
        "then, with its token:  { viewer { portalAccount { links { relationship client { firstName } } } } }",
    ]
    return "\n".join(lines)


async def load_demo(public_url: str = DEFAULT_PUBLIC_URL) -> str:
    """Create the demo organization unless it exists; return the text with the logins."""
    if await Organization.exists(slug=DEMO_SLUG):
        return logins_text(public_url, loaded_now=False)
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
            locations[spec["name"]] = await Location.create(organization=org, **spec)
        for step in _steps():
            await step.load(org, locations)
    return logins_text(public_url)
