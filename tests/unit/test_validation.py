"""Validators of typed values (resolvers/validation.py, resolvers/client_input.py): what once reached
the database unvalidated (issue 13) is a ValueError, which the resolvers turn into a field error."""

from __future__ import annotations

import pytest

from permissions.errors import ApiError
from resolvers.client_input import normalize_language
from resolvers.inputs import SEARCH_MAX, search_text
from resolvers.validation import check_timezone


@pytest.mark.parametrize("value", ["America", "America/Argentina", "America/../America/Toronto", "../etc/passwd/x"])
def test_a_timezone_is_a_zone_tzdata_lists_never_a_directory_or_a_path(value: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        check_timezone(value)
    assert check_timezone("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"


def test_a_language_tag_fits_its_column() -> None:
    assert normalize_language("FR-ca") == "fr-CA"
    with pytest.raises(ValueError, match="at most 35"):
        normalize_language("en-" + "-".join(["abcdefgh"] * 8))


def test_a_search_longer_than_any_column_is_bad_input() -> None:
    assert search_text("  smith ") == "smith"
    with pytest.raises(ApiError):
        search_text("z" * (SEARCH_MAX + 1))
