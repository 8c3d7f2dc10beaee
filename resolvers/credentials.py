"""Passwords, PINs and bearer tokens (docs/architecture.md "Authentication").

argon2id at t=2, m=19 MiB, p=1: the OWASP/ASVS 5 minimum, ~40 ms here where the library's
defaults cost 200-300 ms per login. Tokens are 32 random bytes with a prefix saying what they open;
only their SHA-256 is stored, so a database leak yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PASSWORD_MIN = 12
PASSWORD_MAX = 128
PIN_MIN = 4
PIN_MAX = 8

STAFF_SESSION_PREFIX = "tss_"
PORTAL_SESSION_PREFIX = "tsp_"
API_TOKEN_PREFIX = "tsk_"
LINK_TOKEN_PREFIX = "tsl_"

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the username is unknown, so the answer takes as long as for a real user.
_DUMMY_HASH = _hasher.hash("tessera-dummy-password-for-timing")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """One argon2 verify, whether or not there is a hash (a missing one checks the dummy)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "data" / "common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line and not line.startswith("#"))


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why `password` may not be used, or None. No composition rules (NIST 800-63B)."""
    if len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if password.lower() in _common_passwords():
        return "This password is one of the most common ones; choose another."
    if username and len(username) >= 3 and username.lower() in password.lower():
        return "The password may not contain the username."
    return None


def pin_problem(pin: str) -> str | None:
    """Why `pin` may not be used, or None: 4-8 digits, not one repeated digit, not a run."""
    if not pin.isascii() or not pin.isdigit() or not PIN_MIN <= len(pin) <= PIN_MAX:
        return f"A PIN is {PIN_MIN} to {PIN_MAX} digits."
    if len(set(pin)) == 1:
        return "A PIN may not repeat one digit."
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {-1}):
        return "A PIN may not be a run of digits such as 1234 or 9876."
    return None


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
