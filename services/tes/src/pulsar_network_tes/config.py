"""The service's settings, from the YAML file the `tes` role writes (mode 0640, root:tes).

    service:                # GA4GH service-info
      id: eu.pulsar-network.tes
      name: Pulsar Network TES
      organization: {name: ESG, url: https://pulsar-network.example}
    store: /var/lib/pulsar-network-tes/tasks.sqlite   # or postgresql://tes:PASSWORD@db.example.org/tes
    auth:
      anonymous: false      # true lets requests without credentials in, as the user "anonymous"
      users:
        - name: alice
          token_sha256: 5e88...   # bearer token, stored as its SHA-256
          password_hash: $pbkdf2-sha256$29000$...   # basic auth (passlib's format, Ansible's password_hash)
          admin: false      # an admin sees and cancels every user's tasks
    backend_parameters: [request_walltime]   # tesResources.backend_parameters keys this service honours
    endpoints:              # the network's endpoints: what a task may ask for, and how to reach each
      - name: site_a
        cores: 16
        mem: 64
        gpus: 0
        amqp_url: pyamqp://tes:PASSWORD@broker:5671//pulsar/site_a/tes?ssl=1   # this service's vhost there
        manager: production
        jobs_directory: /srv/pulsar/staging/tes   # the endpoint's staging directory for this service
    backend:                # how tasks run (pulsar_backend.py); all optional
      public_url: https://tes.example.org   # where the endpoints reach this host's job files API
      ca_file: /etc/pulsar-network-tes/amqp-ca.crt   # the broker's CA
      work_dir: /var/lib/pulsar-network-tes/jobs
      storage_roots: [/srv/tes/storage]     # file:// URLs must lie in the task owner's area of one: <root>/<user name>
      shared_storage: [/srv/tes/storage/shared]   # directories under a root every user may read (inputs, never outputs)
      max_input_bytes: 10737418240
      max_output_bytes: 10737418240   # what a task's outputs may hold (apparent sizes; more is a SYSTEM_ERROR)
      max_output_files: 10000         # how many files a task's outputs may hold
      runtime: podman       # or docker, apptainer: what runs the executors on the execute nodes
      executor_network: private   # the executors' network: private (their own), none, or host (the node's)
      runtime_args: []      # more options for the runtime, for every executor
      tail_bytes: 10240     # how much of each executor's stdout and stderr the task log keeps
      health_interval: 10   # seconds between reads of the endpoints' health from the broker
      workers: 4            # tasks prepared and sent at once
      fetch_allow: [192.0.2.0/24]   # networks http(s) inputs and outputs may reach though refused by default (fetch.py)
      fetch_deny: [198.51.100.0/24] # more networks never reached, whatever fetch_allow says
      fetch_timeout: 600    # seconds for a whole download
      fetch_per_user: 2     # downloads one user has at once; the next waits
    limits:                 # what one request may cost (a larger body is 413; a page ends early)
      max_body_bytes: 1048576
      max_page_bytes: 8388608

No secret is stored in clear but the AMQP URLs' and a PostgreSQL store's passwords, which the service needs as they
are (the file is 0640 root:tes).
Tokens are stored as SHA-256, passwords as PBKDF2.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
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
    amqp_url: str = field(default="", repr=False)
    manager: str = "production"
    jobs_directory: str = ""


@dataclass(frozen=True)
class BackendSettings:
    public_url: str = "https://localhost"
    ca_file: str | None = None
    work_dir: str = "/var/lib/pulsar-network-tes/jobs"
    storage_roots: tuple[str, ...] = ()
    max_input_bytes: int = 10 * 1024**3
    max_output_bytes: int = 10 * 1024**3
    max_output_files: int = 10000
    runtime: str = "podman"
    executor_network: str = "private"
    runtime_args: tuple[str, ...] = ()
    tail_bytes: int = 10240
    health_interval: float = 10.0
    workers: int = 4
    shared_storage: tuple[str, ...] = ()
    fetch_allow: tuple[str, ...] = ()
    fetch_deny: tuple[str, ...] = ()
    fetch_timeout: float = 600.0
    fetch_per_user: int = 2


RUNTIMES = ("podman", "docker", "apptainer")
# private: a network of the executor's own, from which the node's services are not reached; none: no network at all;
# host: the node's own network, as the Pulsar job has (runner.NETWORK_FLAGS says how each runtime is told).
EXECUTOR_NETWORKS = ("private", "none", "host")


@dataclass(frozen=True)
class Limits:
    """What one request may cost: its body, and the bytes of tasks one page of a list may hold."""

    max_body_bytes: int = 1024 * 1024
    max_page_bytes: int = 8 * 1024 * 1024


# A user's name is a directory (their storage area) and a task's owner: plain, and never the anonymous caller's.
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Settings:
    store: str
    service: dict[str, Any] = field(default_factory=dict)
    anonymous: bool = False
    users: tuple[User, ...] = ()
    backend_parameters: frozenset[str] = frozenset()
    endpoints: tuple[Endpoint, ...] = ()
    backend: BackendSettings = field(default_factory=BackendSettings)
    limits: Limits = field(default_factory=Limits)


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
        _check_user_name(user.name, [u.name for u in users], where)
        users.append(user)
    endpoints = []
    for i, item in enumerate(_get(data, "endpoints", list, "", [])):
        where = f"endpoints[{i}]."
        if not isinstance(item, dict):
            raise ConfigError(f"endpoints[{i}]: expected a mapping")
        endpoints.append(Endpoint(name=_get(item, "name", str, where),
                                  cores=_get(item, "cores", (int, float), where, 1),
                                  mem=_get(item, "mem", (int, float), where, 4),
                                  gpus=_get(item, "gpus", (int, float), where, 0),
                                  amqp_url=_get(item, "amqp_url", str, where, ""),
                                  manager=_get(item, "manager", str, where, "production"),
                                  jobs_directory=_get(item, "jobs_directory", str, where, "")))
    service = _get(data, "service", dict, "", {})
    if "storage" in service:
        raise ConfigError("service.storage: service-info lists the service's storage from backend.storage_roots; "
                          "remove this key")
    return Settings(store=_get(data, "store", str, ""), service=service,
                    anonymous=_get(auth, "anonymous", bool, "auth.", False), users=tuple(users),
                    backend_parameters=frozenset(_get(data, "backend_parameters", list, "", [])),
                    endpoints=tuple(endpoints), backend=_backend(_get(data, "backend", dict, "", {})),
                    limits=_limits(_get(data, "limits", dict, "", {})))


def _check_user_name(name: str, earlier: list[str], where: str) -> None:
    if name == ANONYMOUS:
        raise ConfigError(f"{where}name: {ANONYMOUS} is the name of callers without credentials; choose another")
    if not USER_NAME.match(name):
        raise ConfigError(f"{where}name: {name}: use letters, digits, '.', '_' and '-' (at most 64, not first '.')")
    if name in earlier:
        raise ConfigError(f"{where}name: {name} appears twice; two entries would share one user's tasks")


def _limits(data: dict[str, Any]) -> Limits:
    default, where = Limits(), "limits."
    return Limits(max_body_bytes=_get(data, "max_body_bytes", int, where, default.max_body_bytes),
                  max_page_bytes=_get(data, "max_page_bytes", int, where, default.max_page_bytes))


def _backend(data: dict[str, Any]) -> BackendSettings:
    default, where = BackendSettings(), "backend."
    runtime = _get(data, "runtime", str, where, default.runtime)
    if runtime not in RUNTIMES:
        raise ConfigError(f"backend.runtime: {runtime} is not one of {', '.join(RUNTIMES)}")
    network = _get(data, "executor_network", str, where, default.executor_network)
    storage_roots = tuple(_get(data, "storage_roots", list, where, []))
    if network not in EXECUTOR_NETWORKS:
        raise ConfigError(f"backend.executor_network: {network} is not one of {', '.join(EXECUTOR_NETWORKS)}")
    return BackendSettings(
        public_url=_get(data, "public_url", str, where, default.public_url).rstrip("/"),
        ca_file=_get(data, "ca_file", str, where, None),
        work_dir=_get(data, "work_dir", str, where, default.work_dir),
        storage_roots=storage_roots,
        max_input_bytes=_get(data, "max_input_bytes", int, where, default.max_input_bytes),
        max_output_bytes=_positive(data, "max_output_bytes", int, default.max_output_bytes),
        max_output_files=_positive(data, "max_output_files", int, default.max_output_files),
        runtime=runtime,
        executor_network=network,
        runtime_args=tuple(_get(data, "runtime_args", list, where, list(default.runtime_args))),
        tail_bytes=_get(data, "tail_bytes", int, where, default.tail_bytes),
        health_interval=_get(data, "health_interval", (int, float), where, default.health_interval),
        workers=_get(data, "workers", int, where, default.workers),
        shared_storage=_shared_storage(data, storage_roots),
        fetch_allow=_networks(data, "fetch_allow"),
        fetch_deny=_networks(data, "fetch_deny"),
        fetch_timeout=_positive(data, "fetch_timeout", (int, float), default.fetch_timeout),
        fetch_per_user=_positive(data, "fetch_per_user", int, default.fetch_per_user),
    )


def _networks(data: dict[str, Any], key: str) -> tuple[str, ...]:
    networks = []
    for item in _get(data, key, list, "backend.", []):
        try:
            if not isinstance(item, str):
                raise TypeError(item)
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except (TypeError, ValueError):
            raise ConfigError(f"backend.{key}: {item!r} is not a network (CIDR) such as 192.0.2.0/24") from None
    return tuple(networks)


def _positive(data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = _get(data, key, kind, "backend.", default)
    if value <= 0:
        raise ConfigError(f"backend.{key}: must be more than 0")
    return value


def _shared_storage(data: dict[str, Any], roots: tuple[str, ...]) -> tuple[str, ...]:
    shared = tuple(_get(data, "shared_storage", list, "backend.", []))
    for path in shared:
        normal = posixpath.normpath(str(path))
        if not any(normal.startswith(posixpath.normpath(root).rstrip("/") + "/") for root in roots):
            raise ConfigError(f"backend.shared_storage: {path} is not a directory under a storage root")
    return shared


def load(path: str) -> Settings:
    try:
        with open(path, encoding="utf-8") as handle:
            return parse(yaml.safe_load(handle))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: {error}") from error
