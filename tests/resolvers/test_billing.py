"""Billing numbers, validated per province in one module (resolvers/billing.py), with known good and bad
numbers: Ontario provincial numbers are 6 digits and group numbers 4 letters or digits; elsewhere
letters and digits, not empty."""

from __future__ import annotations

import pytest

from resolvers.billing import billing_number_problems, normalize_billing_number

ONTARIO_PROVINCIAL = [
    ("123456", True),
    ("000001", True),
    ("12345", False),  # 5 digits
    ("1234567", False),  # 7 digits
    ("12345A", False),  # letters are not digits
    ("123 456", False),
]
ONTARIO_GROUP = [
    ("AB12", True),
    ("1234", True),
    ("ABCD", True),
    ("AB1", False),  # 3
    ("AB123", False),  # 5
    ("AB-1", False),
]
ELSEWHERE = [
    ("AB12345XY", True),
    ("1", True),
    ("A" * 32, True),
    ("A" * 33, False),
    ("A B", False),
    ("12-34", False),
    ("", False),
]


def _fields(province, provincial=None, group=None):
    return [(p.field[-1], p.code) for p in billing_number_problems(province, provincial, group)]


@pytest.mark.parametrize(("number", "valid"), ONTARIO_PROVINCIAL)
def test_ontario_provincial_numbers_are_six_digits(number, valid):
    assert _fields("ON", provincial=number) == ([] if valid else [("provincialBillingNumber", "INVALID")])


@pytest.mark.parametrize(("number", "valid"), ONTARIO_GROUP)
def test_ontario_group_numbers_are_four_letters_or_digits(number, valid):
    assert _fields("ON", group=number) == ([] if valid else [("groupBillingNumber", "INVALID")])


@pytest.mark.parametrize("province", ["BC", "QC", "AB", None])
@pytest.mark.parametrize(("number", "valid"), ELSEWHERE)
def test_elsewhere_letters_and_digits(province, number, valid):
    expected = [] if valid else [("provincialBillingNumber", "INVALID"), ("groupBillingNumber", "INVALID")]
    assert _fields(province, provincial=number, group=number) == expected


def test_province_spellings_and_normalization():
    assert _fields("ca-on", provincial="AB12345XY") == [("provincialBillingNumber", "INVALID")]
    assert _fields("on", group="AB123") == [("groupBillingNumber", "INVALID")]
    assert normalize_billing_number(" ab12 ") == "AB12"
    assert normalize_billing_number("   ") is None and normalize_billing_number(None) is None
    # A blank number clears it: nothing to validate.
    assert _fields("ON", provincial=None, group=None) == []
