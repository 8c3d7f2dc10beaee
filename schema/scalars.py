"""Scalar overrides: the one place a DateTime input becomes a Python value.

Strawberry's DateTime accepts any ISO 8601 text, with or without an offset. A naive datetime then
meets aware ones in the resolvers (account expiry, deactivation dates, audit ranges) and fails
there with a TypeError, masked as "Internal server error"; an offset near the ends of the calendar
("9999-12-31T23:59:59-14:00") overflows when converted to UTC. Dates are ISO 8601 in UTC
(docs/architecture.md "API conventions"), so every DateTime input must carry an offset and is
normalized to UTC here, once, and a value that cannot be is refused while variables are coerced
(BAD_USER_INPUT) like any malformed scalar.
"""

from __future__ import annotations

import datetime as dt

import dateutil.parser
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition


def parse_datetime(value: str) -> dt.datetime:
    """ISO 8601 with an offset (Z or ±hh:mm), as an aware datetime in UTC; ValueError otherwise."""
    parsed = dateutil.parser.isoparse(value)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("Give the UTC offset, e.g. 2026-05-01T09:00:00Z or 2026-05-01T09:00:00-04:00.")
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("This date is out of range.") from None


DateTime = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=wrap_parser(parse_datetime, "DateTime", exceptions=(ValueError, OverflowError)),
    parse_literal=None,
    origin=dt.datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.datetime: DateTime}
