"""The service's settings, from the YAML file the `tes` role writes (mode 0600, owned by the service's user).

    service:                # GA4GH service-info
      id: eu.pulsar-network.tes
      name: Pulsar Network TES
      organization: {name: ESG, url: https://pulsar-network.example}
      storage: [file:///srv/tes/storage]
    store: /var/lib/pulsar-network-tes/tasks.sqlite
    auth:
      anonymous: false      # true lets requests without credentials in, as the user "anonymous"
      users:
        - name: alice
          token_sha256: 5e88...   # bearer token, stored as its SHA-256
          password_hash: $pbkdf2-sha256$29000$...   # basic auth (passlib's format, Ansible's password_hash)
          admin: false      # an admin sees and cancels every user's tasks
    backend_parameters: [request_walltime]   # tesResources.backend_parameters keys this service honours
    endpoints:              # the network's endpoints: what a task may ask for
      - {name: site_a, cores: 16, mem: 64, gpus: 0}

No secret is stored in clear: tokens as SHA-256, passwords as PBKDF2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml


class ConfigError(ValueError):
    """The settings file is missing a value or has one of the wrong kind; the message names it."""


@dataclass(frozen=True)
class User:
    name: str
    token_sha256: str | None = None
    password_hash: str | None = None
    admin: bool = False


@dataclass(frozen=True)
class Endpoint:
    name: str
    cores: float = 1
    mem: float = 4
    gpus: float = 0


@dataclass(frozen=True)
class Settings:
    store: str
    service: dict[str, Any] = field(default_factory=dict)
    anonymous: bool = False
    users: tuple[User, ...] = ()
    backend_parameters: frozenset[str] = frozenset()
    endpoints: tuple[Endpoint, ...] = ()


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise ConfigError(f"{where}{key}: missing")
        return default
    value, kinds = data[key], kind if isinstance(kind, tuple) else (kind,)
    # YAML's true is an int to Python: only a bool is taken where a bool is asked for.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ConfigError(f"{where}{key}: expected {' or '.join(k.__name__ for k in kinds)}, got {type(value).__name__}")
    return value


def parse(data: Any) -> Settings:
    if not isinstance(data, dict):
        raise ConfigError("the settings file must hold a mapping")
    auth = _get(data, "auth", dict, "", {})
    users = []
    for i, item in enumerate(_get(auth, "users", list, "auth.", [])):
        where = f"auth.users[{i}]."
        if not isinstance(item, dict):
            raise ConfigError(f"auth.users[{i}]: expected a mapping")
        user = User(name=_get(item, "name", str, where), token_sha256=_get(item, "token_sha256", str, where, None),
                    password_hash=_get(item, "password_hash", str, where, None),
                    admin=_get(item, "admin", bool, where, False))
        if not (user.token_sha256 or user.password_hash):
            raise ConfigError(f"{where}token_sha256: a user needs a token or a password")
        users.append(user)
    endpoints = []
    for i, item in enumerate(_get(data, "endpoints", list, "", [])):
        where = f"endpoints[{i}]."
        if not isinstance(item, dict):
            raise ConfigError(f"endpoints[{i}]: expected a mapping")
        endpoints.append(Endpoint(name=_get(item, "name", str, where),
                                  cores=_get(item, "cores", (int, float), where, 1),
                                  mem=_get(item, "mem", (int, float), where, 4),
                                  gpus=_get(item, "gpus", (int, float), where, 0)))
    return Settings(store=_get(data, "store", str, ""), service=_get(data, "service", dict, "", {}),
                    anonymous=_get(auth, "anonymous", bool, "auth.", False), users=tuple(users),
                    backend_parameters=frozenset(_get(data, "backend_parameters", list, "", [])),
                    endpoints=tuple(endpoints))


def load(path: str) -> Settings:
    try:
        with open(path, encoding="utf-8") as handle:
            return parse(yaml.safe_load(handle))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: {error}") from error
