"""Provider billing numbers, validated per province (article 000 step 4, article 003).

Ontario: a provincial (OHIP) billing number is 6 digits and a group number 4 letters or digits.
Elsewhere the formats vary by plan, so only non-empty letters and digits are required.
"""

from __future__ import annotations

import re

from resolvers.errors import ErrorCode, Problem

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
