"""Validators for values people type: emails, phones, timezones, languages. One function each,
returning the normalized value or raising ValueError with a message fit for a UserError."""

from __future__ import annotations

import zoneinfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def normalize_email(value: str) -> str:
    """A deliverable-looking address, normalized (no DNS lookup: the clinic may be offline)."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"This is not a valid email address: {error}") from None


def normalize_phone(value: str, region: str = "CA") -> str:
    """E.164, parsed in `region` when the number has no country code."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("This is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_timezone(value: str) -> str:
    """An IANA timezone name (e.g. America/Toronto)."""
    if "/" not in value and value != "UTC":
        raise ValueError("Use an IANA timezone name such as America/Toronto.")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA timezone name.") from None
    return value


def search_key(value: str) -> str:
    """The lowercase key stored next to a name for case-insensitive lookup and prefix search.

    Lowercased character by character, keeping any character whose lowercase form is longer (the
    dotted capital I, U+0130, lowercases to two code points): the key has exactly the name's
    length, so a name that fits its column has a key that fits the key's column. Plain
    `str.lower()` lets a 100-character name make a 200-character key, which the ORM refuses
    with an unexpected error.
    """
    return "".join(low if len(low := char.lower()) == 1 else char for char in value)
