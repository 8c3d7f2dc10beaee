"""The demo's client portal (article 001): a mother who manages her own appointments and her son's,
and two invitations still waiting (one with a verification code). Runs after app/demo_clinical.py,
inside the demo's one transaction; its portal login is printed by `tessera demo`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models.clients import Client
from models.enums import ProxyRelationship
from models.organization import Location, Organization
from models.portal import ClientInvitation, ClientPortalLink, PortalAccount
from resolvers.credentials import LINK_TOKEN_PREFIX, hash_secret, new_token, token_hash

PORTAL_EMAIL = "sofia.martin@example.com"
PORTAL_PASSWORD = "harbour-lights-morning-12"
# (email, password, who): printed by `tessera demo` beside the staff logins (tests/app try each).
PORTAL_LOGINS = [(PORTAL_EMAIL, PORTAL_PASSWORD, "Sofia Martin: herself (SELF) and her son Lucas (PARENT)")]
INVITATION_DAYS = 3


async def load(org: Organization, locations: dict[str, Location]) -> None:
    downtown = locations["Downtown"]

    async def client(first: str, last: str, born: date, email: str | None = None) -> Client:
        return await Client.create(
            organization=org,
            location=downtown,
            first_name=first,
            last_name=last,
            date_of_birth=born,
            email=email,
            timezone=downtown.timezone,
            preferred_language="en",
        )

    mother = await client("Sofia", "Martin", date(1986, 3, 21), PORTAL_EMAIL)
    son = await client("Lucas", "Martin", date(2015, 11, 2))
    grandfather = await client("Henri", "Martin", date(1951, 7, 8), "henri.martin@example.com")
    account = await PortalAccount.create(
        organization=org,
        email=PORTAL_EMAIL,
        password_hash=hash_secret(PORTAL_PASSWORD),
        first_name="Sofia",
        last_name="Martin",
        email_verified=True,
    )
    for linked, relationship in ((mother, ProxyRelationship.SELF), (son, ProxyRelationship.PARENT)):
        await ClientPortalLink.create(organization=org, client=linked, account=account, relationship=relationship)
    expires = datetime.now(UTC) + timedelta(days=INVITATION_DAYS)
    # Waiting: the grandfather's own invitation, and Lucas's father, who must phone for the code.
    for invited, email, relationship, code in (
        (grandfather, "henri.martin@example.com", ProxyRelationship.SELF, None),
        (son, "marc.martin@example.com", ProxyRelationship.PARENT, "480261"),
    ):
        await ClientInvitation.create(
            organization=org,
            client=invited,
            email=email,
            relationship=relationship,
            token_hash=token_hash(new_token(LINK_TOKEN_PREFIX)),  # a link nobody holds: resend to get one
            verification_code=code,
            expires_at=expires,
        )
