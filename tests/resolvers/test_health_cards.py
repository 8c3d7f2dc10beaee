"""Health card validators, one table per province, with known good and bad numbers."""

from __future__ import annotations

import pytest

from models.enums import HealthCardCheck as C
from resolvers.health_cards import bc_check_digit, check_health_card, luhn_valid, normalize_card_number

ONTARIO = [
    ("9876543217", None, C.VALID),  # the published OHIP test number
    ("9876543217", "AB", C.VALID),
    ("9876 543 217", "a", C.VALID),  # separators and case are normalized
    ("4532111111", "", C.VALID),
    ("9876543218", None, C.INVALID_CHECK_DIGIT),
    ("1234567890", "AB", C.INVALID_CHECK_DIGIT),
    ("987654321", None, C.INVALID_FORMAT),  # 9 digits
    ("98765432170", None, C.INVALID_FORMAT),  # 11 digits
    ("98765432A7", None, C.INVALID_FORMAT),
    ("9876543217", "ABC", C.INVALID_FORMAT),  # version code is 0-2 letters
    ("9876543217", "A1", C.INVALID_FORMAT),
]
BRITISH_COLUMBIA = [
    ("9698658215", C.VALID),  # the published PHN test number
    ("9698 658 215", C.VALID),
    ("9876543218", C.VALID),
    ("9698658216", C.INVALID_CHECK_DIGIT),
    ("9876543217", C.INVALID_CHECK_DIGIT),
    ("9000000000", C.INVALID_CHECK_DIGIT),  # sum 0: check digit 11, never valid
    ("8698658215", C.INVALID_FORMAT),  # must start with 9
    ("969865821", C.INVALID_FORMAT),
    ("96986582150", C.INVALID_FORMAT),
]
QUEBEC = [
    ("TREM80010112", C.VALID),
    ("trem 8001 0112", C.VALID),
    ("TRE80010112", C.INVALID_FORMAT),
    ("TREM8001011", C.INVALID_FORMAT),
    ("1REM80010112", C.INVALID_FORMAT),
]


@pytest.mark.parametrize(("number", "version", "expected"), ONTARIO)
def test_ontario(number, version, expected):
    assert check_health_card("ON", number, version) is expected


@pytest.mark.parametrize(("number", "expected"), BRITISH_COLUMBIA)
def test_british_columbia(number, expected):
    assert check_health_card("BC", number) is expected


@pytest.mark.parametrize(("number", "expected"), QUEBEC)
def test_quebec(number, expected):
    assert check_health_card("QC", number) is expected


@pytest.mark.parametrize(
    ("province", "number"),
    [("MB", "123456789"), ("AB", "whatever"), (None, "9876543217"), ("ON", None), ("ON", "  "), ("", "9876543217")],
)
def test_others_are_not_checked(province, number):
    assert check_health_card(province, number) is C.NOT_CHECKED


def test_province_spellings():
    assert check_health_card("ca-on", "9876543217") is C.VALID
    assert check_health_card(" bc ", "9698658215") is C.VALID


def test_helpers():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert bc_check_digit("9698658215") == 5
    assert normalize_card_number(" 9876-543.217 ") == "9876543217"
