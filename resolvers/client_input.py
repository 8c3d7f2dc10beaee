"""A client's input (article 002), checked and normalized into model values.

Input arrives as the dataclasses below (built by `from_input`, resolvers/inputs.py): on update a
field left out is UNSET ("unchanged"), None means "clear". `ClientValidator` turns each given field into the value
stored, and records every problem at its path instead of stopping at the first, so a caller sees all
of them at once: required fields, lengths, email and phone formats (phones read in the location's
country), BCP 47 languages, IANA timezones, dates of birth, extra phones and emergency contacts, the
address, and coverage with its health card check. Rules across fields (SMS consent needs a mobile)
have a function each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.clients import Client
from models.organization import Location
from resolvers.addresses import normalize_postal_code
from resolvers.addresses import normalize_province as normalize_address_province
from resolvers.errors import ErrorCode, Problems
from resolvers.health_cards import check_health_card, normalize_card_number, normalize_province, normalize_version
from resolvers.inputs import UNSET, given
from resolvers.locations import AddressData
from resolvers.validation import check_timezone, normalize_email, normalize_phone

# BCP 47: language[-script][-region][-variant...] (e.g. en, fr-CA, zh-Hant-TW, es-419).
_BCP47 = re.compile(
    r"^(?P<lang>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|\d{3}))?"
    r"(?P<variants>(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*)$",
    re.IGNORECASE,
)
EARLIEST_BIRTH = date(1900, 1, 1)

# The profile fields an update may set directly (after normalization); coverage and location apart.
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "salutation",
    "pronouns",
    "sex_at_birth",
    "date_of_birth",
    "preferred_language",
    "timezone",
    "email",
    "email_consent",
    "mobile",
    "mobile_is_primary",
    "sms_consent",
    "voice_consent",
    "phones",
    "emergency_contacts",
    "referring_provider_name",
    "is_qualified",
    "veteran_id",
    "alert",
)
# The profile fields a portal account never reads (`staff_column` in schema/clients.py; a test keeps
# the two the same): what staff write there shows to no portal account.
STAFF_ONLY_FIELDS = frozenset({"sex_at_birth", "referring_provider_name", "is_qualified", "veteran_id", "alert"})
ADDRESS_FIELDS = ("line1", "line2", "city", "province", "postal_code", "country")
COVERAGE_FIELDS = (
    "health_card_province",
    "health_card_number",
    "health_card_version",
    "fee_program",
    "fee_program_number",
    "billing_authorization_number",
    "case_number",
    "sessions_authorized",
    "billing_notes",
)
# What a client's `coverage` returns: the coverage input plus the stored card check. These are
# guarded by CLIENTS_COVERAGE_READ wherever they show (the Coverage type, the audit trail's values).
COVERAGE_READ_FIELDS = (*COVERAGE_FIELDS, "health_card_check")
REQUIRED_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "preferred_language",
        "timezone",
        "email_consent",
        "mobile_is_primary",
        "sms_consent",
        "voice_consent",
        "phones",
        "emergency_contacts",
    }
)
_CAMEL = re.compile(r"_([a-z0-9])")


# --------------------------------------------------------------------------- input shapes


@dataclass
class PhoneData:
    label: str
    number: str


@dataclass
class EmergencyContactData:
    name: str
    phone: str
    relationship: str | None = None
    email: str | None = None


@dataclass
class CoverageData:
    """Every field may be UNSET (left out: keeps the stored value); None clears it."""

    health_card_province: str | None = UNSET
    health_card_number: str | None = UNSET
    health_card_version: str | None = UNSET
    fee_program: str | None = UNSET
    fee_program_number: str | None = UNSET
    billing_authorization_number: str | None = UNSET
    case_number: str | None = UNSET
    sessions_authorized: int | None = UNSET
    billing_notes: str | None = UNSET


@dataclass
class CreateClientData:
    """A new client; the defaults are what it starts with when the caller leaves a field out (article
    002: email consent on)."""

    first_name: str
    last_name: str
    location_id: str
    preferred_name: str | None = None
    salutation: str | None = None
    pronouns: str | None = None
    sex_at_birth: str | None = None
    date_of_birth: date | None = None
    preferred_language: str = "en"
    timezone: str | None = None
    email: str | None = None
    email_consent: bool = True
    mobile: str | None = None
    mobile_is_primary: bool = True
    sms_consent: bool = True
    voice_consent: bool = False
    phones: list[PhoneData] = field(default_factory=list)
    emergency_contacts: list[EmergencyContactData] = field(default_factory=list)
    address: AddressData | None = None
    referring_provider_name: str | None = None
    is_qualified: bool | None = None
    veteran_id: str | None = None
    primary_provider_id: str | None = None
    alert: str | None = None
    coverage: CoverageData | None = None
    send_portal_invitation: bool = False


@dataclass
class UpdateClientData:
    """Every field but `id` may be UNSET (left out: unchanged); None clears it."""

    id: str
    expected_version: int | None = UNSET
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    preferred_name: str | None = UNSET
    salutation: str | None = UNSET
    pronouns: str | None = UNSET
    sex_at_birth: str | None = UNSET
    date_of_birth: date | None = UNSET
    preferred_language: str | None = UNSET
    timezone: str | None = UNSET
    email: str | None = UNSET
    email_consent: bool | None = UNSET
    mobile: str | None = UNSET
    mobile_is_primary: bool | None = UNSET
    sms_consent: bool | None = UNSET
    voice_consent: bool | None = UNSET
    phones: list[PhoneData] | None = UNSET
    emergency_contacts: list[EmergencyContactData] | None = UNSET
    address: AddressData | None = UNSET
    referring_provider_name: str | None = UNSET
    is_qualified: bool | None = UNSET
    veteran_id: str | None = UNSET
    location_id: str | None = UNSET
    primary_provider_id: str | None = UNSET
    alert: str | None = UNSET
    coverage: CoverageData | None = UNSET


@dataclass
class ClientFilterData:
    search: str | None = None
    location_id: str | None = None
    primary_provider_id: str | None = None
    status: list[Any] | None = None
    date_of_birth: date | None = None
    health_card_number: str | None = None


def camel(name: str) -> str:
    """The API name of a model field (first_name -> firstName), for UserError paths."""
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


LANGUAGE_TAG_MAX = 35  # RFC 5646's advice for what an implementation must store, and the column's size


def normalize_language(value: str) -> str:
    """A BCP 47 tag in its canonical case (fr-CA, zh-Hant-TW), or ValueError."""
    match = _BCP47.match(value.strip())
    if not match:
        raise ValueError("Use a BCP 47 language tag such as en, fr or fr-CA.")
    parts = [match["lang"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    if match["variants"]:
        parts.append(match["variants"].strip("-").lower())
    tag = "-".join(parts)
    if len(tag) > LANGUAGE_TAG_MAX:
        raise ValueError(f"A language tag is at most {LANGUAGE_TAG_MAX} characters.")
    return tag


def _max_length(name: str) -> int | None:
    """The column's length limit, so a long value is a UserError rather than a database error."""
    return getattr(Client._meta.fields_map.get(name), "max_length", None)


def _region(location: Location) -> str:
    """The country a phone number without a country code is read in: the location's."""
    return (location.address_country or "CA").upper()


# --------------------------------------------------------------------------- validation


class ClientValidator:
    """Normalizes one input dict into model values, collecting every problem at its path."""

    def __init__(self, problems: Problems, location: Location, today: date) -> None:
        self.problems = problems
        self.location = location
        self.today = today
        self.values: dict[str, Any] = {}

    def text(self, name: str, value: Any, path: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        value = str(value).strip()
        limit = _max_length(name)
        if limit is not None and len(value) > limit:
            self.problems.add(ErrorCode.INVALID, f"At most {limit} characters.", *path)
        return value or None

    def phone(self, value: str | None, path: tuple[str, ...], *, extension: bool = True) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalize_phone(value, _region(self.location), extension=extension)
        except ValueError as error:
            self.problems.add(ErrorCode.INVALID, str(error), *path)
            return None

    def email(self, value: str | None, path: tuple[str, ...]) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalize_email(value)
        except ValueError as error:
            self.problems.add(ErrorCode.INVALID, str(error), *path)
            return None

    def field(self, name: str, value: Any) -> None:
        """Validate and keep one profile field."""
        path = ("input", camel(name))
        if value is None and name in REQUIRED_FIELDS:
            self.problems.add(ErrorCode.REQUIRED, "This field cannot be empty.", *path)
            return
        if name in ("email_consent", "mobile_is_primary", "sms_consent", "voice_consent", "is_qualified"):
            self.values[name] = value
        elif name == "email":
            self.values[name] = self.email(value, path)
        elif name == "mobile":
            self.values[name] = self.phone(value, path, extension=False)  # texts go to it: no extension
        elif name == "date_of_birth":
            if value is not None and value > self.today:
                self.problems.add(ErrorCode.INVALID, "The date of birth is in the future.", *path)
            elif value is not None and value < EARLIEST_BIRTH:
                self.problems.add(ErrorCode.INVALID, "The date of birth is before 1900.", *path)
            self.values[name] = value
        elif name == "preferred_language":
            try:
                self.values[name] = normalize_language(value)
            except ValueError as error:
                self.problems.add(ErrorCode.INVALID, str(error), *path)
        elif name == "timezone":
            try:
                self.values[name] = check_timezone(value.strip())
            except ValueError as error:
                self.problems.add(ErrorCode.INVALID, str(error), *path)
        elif name == "phones":
            self.values[name] = self.phones(value)
        elif name == "emergency_contacts":
            self.values[name] = self.emergency_contacts(value)
        elif name == "alert":
            self.values[name] = (str(value).strip() or None) if value is not None else None
        else:
            text = self.text(name, value, path)
            if text is None and name in ("first_name", "last_name"):
                self.problems.add(ErrorCode.REQUIRED, "This field cannot be empty.", *path)
            self.values[name] = text

    def phones(self, items: list[PhoneData]) -> list[dict[str, str]]:
        result = []
        for i, item in enumerate(items):
            path = ("input", "phones", str(i))
            label = (item.label or "").strip()
            if not label:
                self.problems.add(ErrorCode.REQUIRED, "A phone needs a label.", *path, "label")
            elif len(label) > 40:
                self.problems.add(ErrorCode.INVALID, "At most 40 characters.", *path, "label")
            number = self.phone(item.number, (*path, "number"))
            if item.number is None or not str(item.number).strip():
                self.problems.add(ErrorCode.REQUIRED, "A phone needs a number.", *path, "number")
            result.append({"label": label, "number": number or ""})
        return result

    def emergency_contacts(self, items: list[EmergencyContactData]) -> list[dict[str, Any]]:
        result = []
        for i, item in enumerate(items):
            path = ("input", "emergencyContacts", str(i))
            name = (item.name or "").strip()
            if not name:
                self.problems.add(ErrorCode.REQUIRED, "An emergency contact needs a name.", *path, "name")
            elif len(name) > 200:
                self.problems.add(ErrorCode.INVALID, "At most 200 characters.", *path, "name")
            if not (item.phone or "").strip():
                self.problems.add(ErrorCode.REQUIRED, "An emergency contact needs a phone.", *path, "phone")
            phone = self.phone(item.phone, (*path, "phone"))
            relationship = (item.relationship or "").strip() or None
            result.append(
                {
                    "name": name,
                    "relationship": relationship,
                    "phone": phone or "",
                    "email": self.email(item.email, (*path, "email")),
                }
            )
        return result

    def address(self, value: AddressData | None) -> None:
        address = value or AddressData()
        country = address.country  # the province and postal code are judged for it (CA if none)
        for part in ADDRESS_FIELDS:
            name = f"address_{part}"
            raw = getattr(address, part)
            path = ("input", "address", camel(part))
            if part in ("province", "postal_code"):
                # resolvers/addresses.py: the one rule for a location's and a client's address.
                normalize = normalize_address_province if part == "province" else normalize_postal_code
                try:
                    self.values[name] = self.text(name, normalize(raw, country), path)
                except ValueError as error:
                    self.problems.add(ErrorCode.INVALID, str(error), *path)
                continue
            text = self.text(name, raw, path)
            if text is not None and part == "country":
                text = text.upper()
                if not re.fullmatch(r"[A-Z]{2}", text):
                    self.problems.add(
                        ErrorCode.INVALID, "Use an ISO 3166-1 alpha-2 code such as CA.", "input", "address", "country"
                    )
            self.values[name] = text

    def coverage(self, value: CoverageData, current: Mapping[str, Any]) -> None:
        """Coverage fields given (UNSET ones keep `current`), with the health card check recomputed."""
        merged = {name: current.get(name) for name in COVERAGE_FIELDS}
        for name in COVERAGE_FIELDS:
            raw = getattr(value, name)
            if not given(raw):
                continue
            path = ("input", "coverage", camel(name))
            if name == "health_card_province":
                raw = normalize_province(raw)
            elif name == "health_card_number":
                raw = normalize_card_number(raw)
            elif name == "health_card_version":
                raw = normalize_version(raw)
            if name == "sessions_authorized":
                if raw is not None and raw < 0:
                    self.problems.add(ErrorCode.INVALID, "Sessions cannot be negative.", *path)
            elif name == "billing_notes":
                raw = (raw or "").strip() or None
            else:
                raw = self.text(name, raw, path)
            merged[name] = raw
        self.values.update(merged)
        self.values["health_card_check"] = check_health_card(
            merged["health_card_province"], merged["health_card_number"], merged["health_card_version"]
        )


# --------------------------------------------------------------------------- rules across fields


def check_sms_consent(values: Mapping[str, Any], problems: Problems) -> None:
    """Article 002: SMS consent needs a mobile number (uncheck SMS to leave the mobile blank)."""
    mobile_problem = any(p.field == ("input", "mobile") for p in problems.items)
    if values.get("sms_consent") and not values.get("mobile") and not mobile_problem:
        problems.add(ErrorCode.REQUIRED, "A mobile number is needed for SMS consent.", "input", "mobile")


# --------------------------------------------------------------------------- derived values


def local_today(location: Location, now: datetime) -> date:
    """Today where the client is seen (the location's timezone): a date of birth is "in the future" by
    the clinic's calendar, not UTC's; the UTC date when the timezone is unknown."""
    try:
        return now.astimezone(ZoneInfo(location.timezone)).date()
    except (KeyError, ValueError):
        return now.date()
