"""Who is asking: a bearer token or basic auth, checked against the users in the settings.

Tokens are compared as SHA-256 digests and passwords as PBKDF2 (passlib's `$pbkdf2-sha256$` format, which Ansible's
`password_hash('pbkdf2_sha256')` writes), always in constant time. Without credentials the caller is `anonymous` if
the settings allow it, and refused otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from .config import ANONYMOUS, Settings, User


@dataclass(frozen=True)
class Caller:
    name: str
    admin: bool = False

    def may_see(self, owner: str) -> bool:
        return self.admin or owner == self.name


class Unauthenticated(Exception):
    """No valid credentials (401)."""


def _ab64decode(text: str) -> bytes:
    # passlib's "adapted base64": '.' for '+', no padding.
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def verify_pbkdf2(password: str, encoded: str) -> bool:
    """Check a password against `$pbkdf2-sha256$ROUNDS$SALT$CHECKSUM`; any other format is a mismatch."""
    try:
        empty, scheme, rounds, salt, checksum = encoded.split("$")
        if empty:
            return False
        if scheme != "pbkdf2-sha256":
            return False
        expected = _ab64decode(checksum)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), _ab64decode(salt), int(rounds), len(expected))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def _token_user(settings: Settings, token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    found = None
    for user in settings.users:  # every user is compared, so the time taken does not tell which matched
        if user.token_sha256 and hmac.compare_digest(user.token_sha256.lower(), digest):
            found = user
    return found


def _basic_user(settings: Settings, credentials: str) -> User | None:
    try:
        name, colon, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user = next((u for u in settings.users if colon and u.name == name and u.password_hash), None)
    return user if user and verify_pbkdf2(password, user.password_hash or "") else None


def authenticate(settings: Settings, authorization: str | None) -> Caller:
    """The caller named by an Authorization header; raises Unauthenticated."""
    if not authorization:
        if settings.anonymous:
            return Caller(ANONYMOUS)
        raise Unauthenticated("credentials required: a bearer token or basic auth")
    scheme, space, value = authorization.partition(" ")
    user = None
    if not space:
        raise Unauthenticated("invalid credentials")
    if scheme.lower() == "bearer":
        user = _token_user(settings, value.strip())
    elif scheme.lower() == "basic":
        user = _basic_user(settings, value.strip())
    if user is None:
        raise Unauthenticated("invalid credentials")
    return Caller(user.name, user.admin)
