"""Health card numbers, checked per issuing province (article 002, "Validate the client's health card").

One validator per province that publishes a checkable format; any other province is stored as
NOT_CHECKED. A failed check does not refuse the save: the clinic still records what the client's
card says, and `healthCardCheck` tells staff to look again (INVALID_FORMAT or INVALID_CHECK_DIGIT).

- Ontario (OHIP): 10 digits whose last is a Luhn check digit, and a version code of 0-2 letters.
- British Columbia (PHN): 10 digits starting with 9; digits 2-9 weighted 2,4,8,5,10,9,7,3 mod 11,
  and the last digit is 11 minus their sum mod 11.
- Quebec (RAMQ): 4 letters and 8 digits (its check digit is not published).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from models.enums import HealthCardCheck

_SEPARATORS = re.compile(r"[\s\-.]")
_TEN_DIGITS = re.compile(r"^\d{10}$")
_ONTARIO_VERSION = re.compile(r"^[A-Z]{0,2}$")
_QUEBEC = re.compile(r"^[A-Z]{4}\d{8}$")
_BC_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)


def normalize_province(value: str | None) -> str | None:
    """An ISO 3166-2 subdivision code without the country (ON for "on", "CA-ON"); None when blank."""
    if value is None:
        return None
    value = value.strip().upper().removeprefix("CA-")
    return value or None


def normalize_card_number(value: str | None) -> str | None:
    """Upper-cased, without the spaces, hyphens and dots people type between the groups."""
    if value is None:
        return None
    value = _SEPARATORS.sub("", value).upper()
    return value or None


def normalize_version(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    return value or None


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of digits, the last being the check digit."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_ontario(number: str, version: str | None) -> HealthCardCheck:
    if not _TEN_DIGITS.match(number) or not _ONTARIO_VERSION.match(version or ""):
        return HealthCardCheck.INVALID_FORMAT
    return HealthCardCheck.VALID if luhn_valid(number) else HealthCardCheck.INVALID_CHECK_DIGIT


def bc_check_digit(number: str) -> int | None:
    """The PHN check digit for digits 2-9 of `number`, or None when no digit can be valid."""
    total = sum((int(d) * w) % 11 for d, w in zip(number[1:9], _BC_WEIGHTS, strict=True))
    digit = 11 - total % 11
    return digit if digit < 10 else None


def check_british_columbia(number: str, version: str | None) -> HealthCardCheck:
    if not _TEN_DIGITS.match(number) or number[0] != "9":
        return HealthCardCheck.INVALID_FORMAT
    expected = bc_check_digit(number)
    return HealthCardCheck.VALID if expected == int(number[9]) else HealthCardCheck.INVALID_CHECK_DIGIT


def check_quebec(number: str, version: str | None) -> HealthCardCheck:
    return HealthCardCheck.VALID if _QUEBEC.match(number) else HealthCardCheck.INVALID_FORMAT


VALIDATORS: dict[str, Callable[[str, str | None], HealthCardCheck]] = {
    "ON": check_ontario,
    "BC": check_british_columbia,
    "QC": check_quebec,
}


def check_health_card(province: str | None, number: str | None, version: str | None = None) -> HealthCardCheck:
    """The stored `healthCardCheck` for a card (inputs as normalized above): NOT_CHECKED without a
    number or for a province with no validator here."""
    province = normalize_province(province)
    number = normalize_card_number(number)
    if number is None or province not in VALIDATORS:
        return HealthCardCheck.NOT_CHECKED
    return VALIDATORS[province](number, normalize_version(version))
