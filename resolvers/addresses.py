"""Postal addresses as people type them: one rule for a location's and a client's address.

The country is an ISO 3166-1 alpha-2 code (CA when not given, as the contract says). In Canada the
province is one of the 13 province and territory codes (ON, QC, ... YT; "CA-ON" is accepted) and the
postal code is the A1A 1A1 shape, normalized to upper case with one space. Elsewhere the province is
any short ISO 3166-2 subdivision code and the postal code is kept as typed (upper-cased): formats vary
too much to judge. Each function returns the normalized value or raises ValueError with a message fit
for a UserError at the field.
"""

from __future__ import annotations

import re

DEFAULT_COUNTRY = "CA"
CANADIAN_PROVINCES = frozenset({"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"})
_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")
# Canada Post: no D, F, I, O, Q or U anywhere, and no W or Z as the first letter.
_CANADIAN_POSTAL_CODE = re.compile(r"^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])[ -]?(\d[ABCEGHJ-NPRSTV-Z]\d)$")


def _country(country: str | None) -> str:
    return (country or "").strip().upper() or DEFAULT_COUNTRY


def normalize_province(value: str | None, country: str | None) -> str | None:
    """The subdivision code (without the country prefix), or None when blank."""
    code = _country(country)
    province = (value or "").strip().upper().removeprefix(f"{code}-")
    if not province:
        return None
    if code == "CA" and province not in CANADIAN_PROVINCES:
        raise ValueError("Use a Canadian province or territory code such as ON, QC or BC.")
    if not _SUBDIVISION.match(province):
        raise ValueError("Use an ISO 3166-2 subdivision code such as ON.")
    return province


def normalize_postal_code(value: str | None, country: str | None) -> str | None:
    """A Canadian postal code as A1A 1A1; elsewhere the code as typed, upper-cased; None when blank."""
    postal = " ".join((value or "").split()).upper()
    if not postal:
        return None
    if _country(country) == "CA":
        match = _CANADIAN_POSTAL_CODE.match(postal)
        if match is None:
            raise ValueError("A Canadian postal code looks like A1A 1A1.")
        return f"{match.group(1)} {match.group(2)}"
    return postal
