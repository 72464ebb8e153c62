# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one rule for secrets a role accepts: long enough, and not a placeholder left from an example vault.

Used by every role's preflight (through the weak_secrets filter) and by the AMQP layer for URL passwords. Reasons
name the variable, never the value.
"""

from __future__ import annotations

import base64
import hashlib
import re

# Anywhere in the value, any case: the example vault's "CHANGE-ME: 32 random characters" must not pass.
PLACEHOLDER = re.compile(r"change[-_ ]?me|placeholder", re.IGNORECASE)
# Whole values that products and documentation ship as defaults (compared in lower case).
KNOWN_DEFAULTS = frozenset({"password", "secret", "guest", "admin", "galaxy", "rabbitmq", "pulsar", "condor",
                            "htcondor", "pool_password", "pool"})
PASSWORD_MIN_LENGTH = 12
KEY_MIN_LENGTH = 32


def secret_problem(name: str, value, min_length: int = PASSWORD_MIN_LENGTH) -> str:
    """'' for an acceptable secret, else one line naming the variable (never the value)."""
    if not isinstance(value, str) or not value:
        return f"{name} is empty: set it from a vault"
    if PLACEHOLDER.search(value) or value.strip().lower() in KNOWN_DEFAULTS:
        return f"{name} is a placeholder: set a random value from a vault"
    if len(value) < min_length:
        return f"{name} is shorter than {min_length} characters"
    return ""


def weak_secrets(secrets: dict, min_length: int = PASSWORD_MIN_LENGTH) -> list:
    """The problems of each named secret, in order; an empty list when all are acceptable."""
    problems = (secret_problem(name, value, int(min_length)) for name, value in secrets.items())
    return [problem for problem in problems if problem]


def _ab64encode(data: bytes) -> str:
    """passlib's "adapted base64": '.' for '+', no padding."""
    return base64.b64encode(data).decode().replace("+", ".").rstrip("=")


def pbkdf2_sha256_hash(password: str, salt: str, rounds: int = 29000) -> str:
    """A password as passlib's pbkdf2_sha256 stores it ($pbkdf2-sha256$ROUNDS$SALT$CHECKSUM); the same salt gives the
    same text, so a role can write it on every converge without a change."""
    salt_bytes = salt.encode()
    checksum = hashlib.pbkdf2_hmac("sha256", password.encode(), salt_bytes, rounds, 32)
    return f"$pbkdf2-sha256${rounds}${_ab64encode(salt_bytes)}${_ab64encode(checksum)}"
