"""Duplicate suggestions (article 001): which visible clients may be the same person as a client.

Bounded work: two indexed candidate queries of at most `CANDIDATE_CAP` rows each (same date of birth,
mobile, email or, where the viewer may read coverage, health card; then a last name sharing its first
letters), scored in Python. Names compare accent- and case-insensitively with a similarity that tolerates a
typo (rapidfuzz's normalized Indel ratio), so "Zoé Tremblay" and "Zoe Tremblai" are similar. The
health card is a reason only for a viewer holding CLIENTS_COVERAGE_READ at both clients' locations,
or the suggestions would be an oracle for a value it may not read.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from tortoise.expressions import Q

from models.clients import Client
from models.enums import ClientStatus
from permissions.catalog import Permission
from permissions.grants import ALL
from permissions.principal import Principal
from permissions.scoping import client_q

CANDIDATE_CAP = 200
MAX_LIMIT = 50
SIMILAR_NAME = 0.85  # a name at least this similar is a reason ("similar name")
MIN_SCORE = 0.35
# What each kind of match adds to a score (capped at 1).
WEIGHTS = {"name": 0.4, "birth": 0.3, "mobile": 0.15, "email": 0.15, "card": 0.25}
_OPEN = (ClientStatus.ACTIVE, ClientStatus.PENDING_REVIEW)


@dataclass
class Candidate:
    client: Client
    score: float
    reasons: list[str] = field(default_factory=list)


def folded(text: str | None) -> str:
    """A name for comparison: accents dropped, case folded, spacing collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def name_similarity(a: Client, b: Client) -> float:
    """0..1: the best of the full names compared, with each's preferred name tried as its first name."""

    def names(c: Client) -> list[str]:
        firsts = {c.first_name, c.preferred_name or c.first_name}
        return [folded(f"{first} {c.last_name}") for first in firsts]

    return max(fuzz.ratio(x, y) for x in names(a) for y in names(b)) / 100


def score(client: Client, other: Client, card_visible: bool) -> Candidate:
    similarity = name_similarity(client, other)
    reasons: list[str] = []
    total = WEIGHTS["name"] * similarity
    if similarity >= SIMILAR_NAME:
        reasons.append("same name" if similarity == 1 else "similar name")
    matches = (
        (
            "birth",
            "same date of birth",
            client.date_of_birth is not None and client.date_of_birth == other.date_of_birth,
        ),
        ("mobile", "same mobile", client.mobile is not None and client.mobile == other.mobile),
        ("email", "same email", client.email_key is not None and client.email_key == other.email_key),
        (
            "card",
            "same health card",
            card_visible
            and client.health_card_number is not None
            and client.health_card_number == other.health_card_number,
        ),
    )
    for kind, reason, matched in matches:
        if matched:
            total += WEIGHTS[kind]
            reasons.append(reason)
    return Candidate(other, round(min(total, 1.0), 3), reasons)


def _exact_q(client: Client, principal: Principal) -> Q | None:
    """Rows sharing an identifying value (each column has an index beginning with the organization:
    models/clients.py). The health card only among rows whose coverage the viewer may read, or a
    match there would show a client because of a card the viewer may not see."""
    clauses = []
    if client.date_of_birth is not None:
        clauses.append(Q(date_of_birth=client.date_of_birth))
    if client.mobile:
        clauses.append(Q(mobile=client.mobile))
    if client.email_key:
        clauses.append(Q(email_key=client.email_key))
    coverage = principal.grants.scope(Permission.CLIENTS_COVERAGE_READ)
    if client.health_card_number and principal.grants.has(Permission.CLIENTS_COVERAGE_READ, str(client.location_id)):
        card = Q(health_card_number=client.health_card_number)
        clauses.append(card if coverage is ALL else card & Q(location_id__in=sorted(coverage)))
    return Q(*clauses, join_type=Q.OR) if clauses else None


async def duplicate_candidates(principal: Principal, client: Client, limit: int) -> list[Candidate]:
    """The likeliest duplicates of `client` among the clients `principal` may see, best first."""
    card_readable = principal.grants.has(Permission.CLIENTS_COVERAGE_READ, str(client.location_id))
    visible = Client.filter(client_q(principal), status__in=_OPEN).exclude(id=client.id)
    # Rows sharing an identifying value first, each query capped: a common surname cannot crowd out
    # the duplicate with the same date of birth.
    exact = _exact_q(client, principal)
    rows = await visible.filter(exact).limit(CANDIDATE_CAP) if exact is not None else []
    if client.last_name_key:
        seen = {r.id for r in rows}
        named = (
            await visible.filter(last_name_key__startswith=client.last_name_key[:3])
            .order_by("last_name_key", "first_name_key", "id")
            .limit(CANDIDATE_CAP)
        )
        rows = [*rows, *(r for r in named if r.id not in seen)]
    found = []
    for row in rows:
        card_visible = card_readable and principal.grants.has(Permission.CLIENTS_COVERAGE_READ, str(row.location_id))
        candidate = score(client, row, card_visible)
        if candidate.reasons and candidate.score >= MIN_SCORE:
            found.append(candidate)
    found.sort(key=lambda c: (-c.score, c.client.last_name_key, str(c.client.id)))
    return found[:limit]


def check_limit(limit: Any) -> int:
    """`limit` within 1..50 (else a BAD_USER_INPUT, raised by the caller's schema)."""
    value = 10 if limit is None else int(limit)
    if not 1 <= value <= MAX_LIMIT:
        raise ValueError(f"`limit` must be between 1 and {MAX_LIMIT}.")
    return value
