# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Values the roles write unquoted into configuration files: refuse those that would change the file's meaning.

A line break in a value written as 'KEY = value' starts a new setting; a quote, '$' or backtick in a value a shell
sources runs code; a wildcard in a domain widens an access rule. Each kind is matched whole (fullmatch), so a
trailing newline cannot slip past a '$' anchor. Reasons name the variable, never the value.
"""

from __future__ import annotations

import re

KINDS = {
    # One line of text: anything but line breaks and other control characters.
    "line": (re.compile(r"[^\x00-\x1f\x7f]*"), "holds a line break or control character"),
    # One token: no white space at all (squid lists, addresses, sizes).
    "word": (re.compile(r"[^\s\x00-\x1f\x7f]+"), "must be one word, without spaces, line breaks or control characters"),
    # Written inside double quotes in a file a shell sources (CVMFS's default.local).
    "shell": (re.compile(r"[^\x00-\x1f\x7f\"$`\\]*"), "holds a line break or a character a shell would interpret (\", $, ` or \\)"),
    # A host or DNS domain name: no wildcard, which would widen rules such as ALLOW_WRITE = *@$(UID_DOMAIN).
    "domain": (re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"),
               "must be a host or domain name (letters, digits, '-' and '.'; no wildcard, space or line break)"),
    # An absolute path for systemd units and configuration files: no spaces, line breaks or systemd '%' specifiers.
    "path": (re.compile(r"/[A-Za-z0-9._/+@-]*"), "must be an absolute path of letters, digits and ._/+@- only"),
}


def _values(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _values(item)
    else:
        yield "" if value is None else str(value)


def setting_problems(settings: dict, kind: str = "line") -> list:
    """One line per setting (by name) whose value, or any value inside it, is not of the kind."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    pattern, reason = KINDS[kind]
    return [f"{name} {reason}" for name, value in settings.items()
            if not all(pattern.fullmatch(text) for text in _values(value))]
