"""resolvers/credentials.py: password and PIN policy, tokens, hashing (docs/architecture.md "Authentication")."""

from __future__ import annotations

import hashlib

import pytest

from resolvers.credentials import (
    API_TOKEN_PREFIX,
    PORTAL_SESSION_PREFIX,
    STAFF_SESSION_PREFIX,
    _common_passwords,
    new_token,
    password_problem,
    pin_problem,
    token_hash,
)


@pytest.mark.parametrize(
    "password",
    [
        "x" * 12,
        "y" * 128,
        "violet harbour lantern",
        "ünïcødé-密码-пароль",
        "            spaces-ok  ",
        "no composition rules at all",
    ],
)
def test_acceptable_passwords(password):
    assert password_problem(password, "jdoe") is None


def test_length_bounds():
    assert "at least 12" in password_problem("z" * 11)
    assert password_problem("z" * 12) is None
    assert password_problem("z" * 128) is None
    assert "at most 128" in password_problem("z" * 129)


def test_length_counts_characters_not_bytes():
    assert password_problem("é" * 11) is not None
    assert password_problem("é" * 12) is None


@pytest.mark.parametrize("password", ["123qweasdzxc", "1QAZ2WSX3EDC", "qazwsxedcrfv", "123456qwerty"])
def test_common_passwords_are_refused(password):
    assert "common" in password_problem(password)


def test_the_common_list_is_shipped_and_sizeable():
    common = _common_passwords()
    assert len(common) >= 10_000
    assert all(p == p.strip().lower() for p in common)
    assert "" not in common
    # The list only matters for passwords that pass the length rule.
    assert sum(1 for p in common if len(p) >= 12) >= 50


def test_password_may_not_contain_the_username():
    assert "username" in password_problem("my-jdoe-passphrase", "jdoe")
    assert "username" in password_problem("MY-JDOE-PASSPHRASE", "JDoe")
    assert password_problem("my-jdoe-passphrase", "someone") is None
    assert password_problem("my-jdoe-passphrase", None) is None
    # Very short usernames would forbid half the dictionary: not checked.
    assert password_problem("a perfectly fine passphrase", "a") is None


@pytest.mark.parametrize("pin", ["4827", "1357", "9051", "20251124", "1243", "1212", "0987"])
def test_acceptable_pins(pin):
    assert pin_problem(pin) is None


@pytest.mark.parametrize(
    "pin",
    [
        "123",  # too short
        "123456789",  # too long
        "12a4",
        "４８２７",  # full-width digits are not ASCII digits
        " 4827",
        "",
        "1111",
        "00000000",
        "1234",
        "2345",
        "6789",
        "9876",
        "4321",
        "01234567",
        "98765432",
    ],
)
def test_refused_pins(pin):
    assert pin_problem(pin) is not None


def test_tokens():
    for prefix in (STAFF_SESSION_PREFIX, PORTAL_SESSION_PREFIX, API_TOKEN_PREFIX):
        token = new_token(prefix)
        assert token.startswith(prefix)
        # 32 random bytes, URL-safe base64 without padding: 43 characters.
        assert len(token) == len(prefix) + 43
    assert len({new_token(STAFF_SESSION_PREFIX) for _ in range(100)}) == 100
    assert {STAFF_SESSION_PREFIX, PORTAL_SESSION_PREFIX, API_TOKEN_PREFIX} == {"tss_", "tsp_", "tsk_"}


def test_token_hash_is_sha256_hex():
    assert token_hash("tss_abc") == hashlib.sha256(b"tss_abc").hexdigest()
    assert len(token_hash("x")) == 64
