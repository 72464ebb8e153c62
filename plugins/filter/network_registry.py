# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""network_registry and network_registry_problems: the registry of onboarded endpoints (pulsar_network_onboarded)
with one endpoint recorded in it, as the onboard_endpoint playbook writes it, and why a request cannot be recorded.

The registry is a list of pulsar_network endpoints, sorted by name. Recording an endpoint keeps its password and every
setting the request does not give again; a new endpoint gets the password the playbook generated. The description
pulsar_network takes the registry's endpoints beside those described by hand, which onboarding leaves alone."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.esg.pulsar_network.plugins.module_utils.network import description_problems

NAME = r"^[A-Za-z0-9][A-Za-z0-9_]*$"
REQUEST_STATES = ("present", "absent")


def _int(value):
    """As Jinja's int filter reads a setting given on the command line: '16' is 16, '8.7' is 8, 'abc' is 0."""
    try:
        return int(value, 10) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _float(value):
    """As Jinja's float filter: 'abc' is 0.0."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _list(value):
    """A list, or its items comma-separated."""
    return value.split(",") if isinstance(value, str) else value


def _text(value):
    return value


# The endpoint settings a request may give (-e onboard_cores=16 ...) and how each is read.
SETTINGS = {"galaxy_servers": _list, "staging_root": _text, "manager": _text, "cores": _int, "mem": _float, "gpus": _int,
            "tags": _list, "container_runtime": _text}


def _given(settings: dict | None) -> dict:
    """The settings the request gives, read; None is a setting not given."""
    unknown = sorted(set(settings or {}) - set(SETTINGS))
    if unknown:
        raise ValueError(f"network_registry: unknown settings {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
    return {key: SETTINGS[key](value) for key, value in (settings or {}).items() if value is not None}


def _by_name(entries: list[dict]) -> list[dict]:
    """Sorted by name as Jinja's sort(attribute='name') sorts, regardless of case."""
    return sorted(entries, key=lambda entry: str(entry.get("name", "")).lower())


def _recorded(registry: list[dict], endpoint, record_state: str, settings: dict | None, password) -> list[dict]:
    """REGISTRY with ENDPOINT's entry, new or updated, in place of any it held."""
    old = next((entry for entry in registry if entry.get("name") == endpoint), {})
    entry = {**old, **_given(settings), "name": endpoint, "password": old["password"] if "password" in old else password,
             "state": record_state}
    return _by_name([other for other in registry if other.get("name") != endpoint] + [entry])


def _request_problems(registry: list[dict], network, endpoint, state, registry_file, vault_missing) -> list[str]:
    problems = []
    if not re.match(NAME, str(endpoint)):
        problems.append("endpoint must be given (-e onboard_endpoint=NAME), letters, digits and _")
    if state not in REQUEST_STATES:
        problems.append("onboard_state must be present or absent")
    if network is None:
        problems.append("the inventory has no pulsar_network description")
    onboarded = any(entry.get("name") == endpoint for entry in registry)
    if endpoint in [entry.get("name") for entry in (network or {}).get("endpoints") or []] and not onboarded:
        problems.append(f"endpoint {endpoint} is described by hand in pulsar_network.endpoints; onboarding manages only the "
                        f"endpoints it recorded in {registry_file}")
    if state == "absent" and not onboarded:
        problems.append(f"endpoint {endpoint} was never onboarded: nothing to offboard")
    if vault_missing:
        problems.append("no vault password to encrypt the registry with: set ANSIBLE_VAULT_PASSWORD_FILE (or "
                        "vault_password_file), or onboard_vault=false for a plain file readable only by its owner")
    return problems


def record(registry, network, endpoint, state="present", record_state="present", settings=None, password=None,
           registry_file="", vault_missing=False) -> tuple[list[str], list[dict] | None]:
    """ENDPOINT recorded in REGISTRY with RECORD_STATE: (problems, the new registry, None when there are problems).

    STATE is the request's (present, or absent to offboard); SETTINGS those it gives, None for one not given; PASSWORD
    the one a new endpoint gets; REGISTRY_FILE where the registry is kept (for a reason); VAULT_MISSING true when the
    registry is to be encrypted and the run has no vault password. The problems, one line each, are the request's, or,
    when it has none, those of the description pulsar_network would be with the new registry. None repeats a password.
    """
    registry = registry or []
    problems = _request_problems(registry, network, endpoint, state, registry_file, vault_missing)
    if problems:
        return problems, None
    recorded = _recorded(registry, endpoint, record_state, settings, password)
    # The description this run converges to: the new registry's endpoints replace those of the one it read.
    before = {entry.get("name") for entry in registry}
    by_hand = [entry for entry in network.get("endpoints") or [] if entry.get("name") not in before]
    problems = description_problems(dict(network, endpoints=by_hand + recorded))
    return problems, None if problems else recorded


def _record(*args, **kwargs):
    try:
        return record(*args, **kwargs)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from None


def network_registry_problems(registry, network, *args, **kwargs):
    return _record(registry, network, *args, **kwargs)[0]


def network_registry(registry, network, *args, **kwargs):
    problems, recorded = _record(registry, network, *args, **kwargs)
    if problems:
        raise AnsibleFilterError("; ".join(problems) + ".")
    return recorded


class FilterModule:
    def filters(self):
        return {"network_registry": network_registry, "network_registry_problems": network_registry_problems}
