"""Provider billing numbers, validated per province (article 000 step 4, article 003).

Ontario: a provincial (OHIP) billing number is 6 digits and a group number 4 letters or digits.
Elsewhere the formats vary by plan, so only non-empty letters and digits are required.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.providers import Provider
from resolvers.errors import ErrorCode, Problem, fail

T = TypeVar("T")
DUPLICATE_MESSAGE = "Another provider of this organization already has this provincial billing number."

_ONTARIO_PROVINCIAL = re.compile(r"^\d{6}$")
_ONTARIO_GROUP = re.compile(r"^[A-Za-z0-9]{4}$")
_ALNUM = re.compile(r"^[A-Za-z0-9]{1,32}$")


def normalize_billing_number(value: str | None) -> str | None:
    """Trimmed and upper-cased; blank means none."""
    if value is None:
        return None
    value = value.strip().upper()
    return value or None


def billing_number_problems(
    province: str | None,
    provincial: str | None,
    group: str | None,
    field_prefix: tuple[str, ...] = ("input",),
    provincial_field: str = "provincialBillingNumber",
    group_field: str = "groupBillingNumber",
) -> list[Problem]:
    """Problems with the two billing numbers for `province` (ISO 3166-2 subdivision, e.g. ON)."""
    problems: list[Problem] = []
    ontario = (province or "").upper().removeprefix("CA-") == "ON"
    if provincial is not None:
        if ontario and not _ONTARIO_PROVINCIAL.match(provincial):
            problems.append(
                Problem(ErrorCode.INVALID, "An Ontario billing number is 6 digits.", (*field_prefix, provincial_field))
            )
        elif not ontario and not _ALNUM.match(provincial):
            problems.append(
                Problem(
                    ErrorCode.INVALID, "A billing number is letters and digits only.", (*field_prefix, provincial_field)
                )
            )
    if group is not None:
        if ontario and not _ONTARIO_GROUP.match(group):
            problems.append(
                Problem(
                    ErrorCode.INVALID, "An Ontario group number is 4 letters or digits.", (*field_prefix, group_field)
                )
            )
        elif not ontario and not _ALNUM.match(group):
            problems.append(
                Problem(ErrorCode.INVALID, "A group number is letters and digits only.", (*field_prefix, group_field))
            )
    return problems


async def provincial_number_problem(
    organization_id: uuid.UUID | str, number: str | None, provider_id: uuid.UUID | None, *field: str
) -> Problem | None:
    """DUPLICATE when another provider of the organization holds the provincial `number` (the
    friendly answer; the unique index on (organization_id, provincial_billing_number) decides a race,
    see `unique_billing_write`)."""
    if number is None:
        return None
    query = Provider.filter(organization_id=organization_id, provincial_billing_number=number)
    if provider_id is not None:
        query = query.exclude(id=provider_id)
    if await query.exists():
        return Problem(ErrorCode.DUPLICATE, DUPLICATE_MESSAGE, tuple(field))
    return None


async def unique_billing_write(action: Callable[[], Awaitable[T]], *field: str) -> T:
    """A provider write that may hit the billing number's unique index, in a savepoint (PostgreSQL
    aborts the whole transaction after a caught IntegrityError otherwise): the loser of a race gets
    DUPLICATE at `field` and the transaction rolls back."""
    try:
        async with in_transaction():
            return await action()
    except IntegrityError:
        raise fail(ErrorCode.DUPLICATE, DUPLICATE_MESSAGE, *field) from None
