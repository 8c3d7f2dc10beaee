"""Validators for values people type: emails, phones, timezones, languages. One function each,
returning the normalized value or raising ValueError with a message fit for a UserError."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def normalize_email(value: str) -> str:
    """A deliverable-looking address, normalized (no DNS lookup: the clinic may be offline)."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"This is not a valid email address: {error}") from None


MAX_EXTENSION_DIGITS = 10  # E.164 (16) + ";ext=" (5) + 10 fits the 32-character phone columns


def normalize_phone(value: str, region: str = "CA", *, extension: bool = True) -> str:
    """E.164, parsed in `region` when the number has no country code; an extension is kept as
    E.164 plus ";ext=123" (RFC 3966's spelling), never dropped. With `extension=False` (a mobile
    number, which texts go to) a number with an extension is refused rather than cut short."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("This is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This is not a valid phone number.")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not number.extension:
        return e164
    if not extension:
        raise ValueError("A mobile number cannot have an extension.")
    if not number.extension.isdigit() or len(number.extension) > MAX_EXTENSION_DIGITS:
        raise ValueError(f"An extension is at most {MAX_EXTENSION_DIGITS} digits.")
    return f"{e164};ext={number.extension}"


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(value: str) -> str:
    """An IANA timezone name (e.g. America/Toronto): one of the zones tzdata lists, so a name that is
    a directory of it ("America/Argentina") or a path is refused before anything opens a file."""
    if "/" not in value and value != "UTC":
        raise ValueError("Use an IANA timezone name such as America/Toronto.")
    if value not in _timezones():
        raise ValueError(f"{value[:64]!r} is not an IANA timezone name.")
    return value
