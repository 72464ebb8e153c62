# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pulsar's RabbitMQ queues: queue names, inspection over AMQP (pika) and the management API, and verdicts.

Shared by the rabbitmq_queue_info module and the pulsar_endpoints inventory plugin. URLs and TLS settings come from
module_utils/amqp.py, queue names from module_utils/pulsar_names.py; verdicts are plain functions, tested without
a broker.
"""

from __future__ import annotations

import json
import ssl
import traceback
import urllib.error
import urllib.parse

from ansible.module_utils.urls import open_url
from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import ssl_context
# Re-exported: the modules and plugins name queues through this module.
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import (  # noqa: F401 pylint: disable=unused-import
    PULSAR_CONSUMED,
    PULSAR_QUEUES,
    manager_from_setup_queue,
    pulsar_queue_names,
)

try:
    import pika
    import pika.exceptions
except ImportError:
    pika = None
    PIKA_IMPORT_ERROR = traceback.format_exc()
else:
    PIKA_IMPORT_ERROR = None


class BrokerError(Exception):
    """A broker could not be read. kind is the verdict it leads to: unreachable, auth_failed or error."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def endpoint_verdict(queues: dict, roles: dict, max_ready: int) -> tuple[str, list[str]]:
    """healthy, stalled, backlogged or absent from per-queue figures (exists, messages_ready, consumers)."""
    setup = queues.get(roles.get("setup"), {})
    if not setup.get("exists"):
        return "absent", [f"queue {roles.get('setup')} does not exist: Pulsar has never connected to this vhost"]
    reasons, stalled = [], False
    for role in PULSAR_CONSUMED:
        queue = queues.get(roles.get(role), {})
        if not queue.get("exists"):
            reasons.append(f"queue {roles.get(role)} does not exist")
            stalled = True
        elif not queue.get("consumers"):
            reasons.append(f"nobody consumes {roles[role]} ({queue.get('messages_ready', 0)} ready)")
            stalled = True
    if stalled:
        return "stalled", reasons
    backlog = [f"{roles[r]} holds {queues[roles[r]]['messages_ready']} ready messages (limit {max_ready})"
               for r in PULSAR_CONSUMED if queues[roles[r]].get("messages_ready", 0) > max_ready]
    return ("backlogged", backlog) if backlog else ("healthy", [])


def connection_parameters(settings: dict, ca_file: str | None, validate_certs: bool, timeout: float):
    credentials = pika.PlainCredentials(settings["username"], settings["password"])
    kwargs = dict(host=settings["host"], port=settings["port"], virtual_host=settings["vhost"], credentials=credentials,
                  connection_attempts=1, socket_timeout=timeout, blocked_connection_timeout=timeout,
                  stack_timeout=timeout)
    if settings["heartbeat"] is not None:
        kwargs["heartbeat"] = settings["heartbeat"]
    if settings["tls"]:
        kwargs["ssl_options"] = pika.SSLOptions(ssl_context(ca_file, validate_certs), server_hostname=settings["host"])
    return pika.ConnectionParameters(**kwargs)


def _first_line(err) -> str:
    text = (err.strerror if isinstance(err, OSError) and err.strerror else str(err)).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def _connection_error(err, settings) -> BrokerError:
    where = f"{settings['host']}:{settings['port']}"
    if isinstance(err, pika.exceptions.ProbableAuthenticationError):
        return BrokerError("auth_failed", f"broker {where} refused user {settings['username']}: wrong password?")
    if isinstance(err, pika.exceptions.ProbableAccessDeniedError):
        return BrokerError("auth_failed", f"broker {where} refused user {settings['username']} access to vhost "
                                          f"{settings['vhost']}: it does not exist or the user has no permission")
    # pika wraps the socket's or TLS layer's error: AMQPConnectionError(AMQPConnector...Error(exception)).
    cause = err.args[0] if err.args and isinstance(err.args[0], BaseException) else err
    cause = getattr(cause, "exception", None) or cause
    # pika reports a peer that hung up mid-handshake as StreamLostError, at times only as text.
    if isinstance(cause, pika.exceptions.StreamLostError) or "StreamLostError" in _first_line(cause):
        hint = "" if settings["tls"] else ": is this a TLS port? use amqps:// or ?ssl=1"
        return BrokerError("unreachable", f"broker {where} closed the connection during the handshake{hint}")
    if isinstance(cause, ssl.SSLError) or "SSL" in _first_line(cause) or "certificate" in _first_line(cause):
        return BrokerError("unreachable", f"TLS with broker {where} failed: {_first_line(cause)}")
    return BrokerError("unreachable", f"broker {where} is unreachable: {_first_line(cause)}")


def amqp_queue_figures(settings: dict, queues, ca_file=None, validate_certs=True, timeout=10.0) -> dict:
    """Passive declares over one connection: {queue: {exists, messages_ready, consumers}}."""
    try:
        connection = pika.BlockingConnection(connection_parameters(settings, ca_file, validate_certs, timeout))
    except pika.exceptions.AMQPError as err:
        raise _connection_error(err, settings) from None
    except OSError as err:
        raise _connection_error(err, settings) from None
    figures = {}
    try:
        channel = connection.channel()
        for name in queues:
            try:
                declared = channel.queue_declare(name, passive=True)
            except pika.exceptions.ChannelClosedByBroker as err:
                if err.reply_code == 404:
                    figures[name] = {"exists": False, "messages_ready": 0, "consumers": 0}
                    channel = connection.channel()
                    continue
                if err.reply_code == 403:
                    raise BrokerError("auth_failed", f"user {settings['username']} may not read queue {name} "
                                                     f"in vhost {settings['vhost']}") from None
                raise BrokerError("error", f"broker closed the channel on queue {name}: {err.reply_text}") from None
            figures[name] = {"exists": True, "messages_ready": declared.method.message_count,
                             "consumers": declared.method.consumer_count}
    except pika.exceptions.AMQPError as err:
        raise BrokerError("unreachable", f"connection to broker lost: {err}") from None
    finally:
        if connection.is_open:
            connection.close()
    return figures


class ManagementApi:
    """RabbitMQ's management HTTP API, read-only."""

    def __init__(self, url: str, username: str, password: str, ca_file=None, validate_certs=True, timeout=10.0):
        self.url = url.rstrip("/")
        self.options = dict(url_username=username, url_password=password, force_basic_auth=True, timeout=timeout,
                            validate_certs=validate_certs, ca_path=ca_file, headers={"Accept": "application/json"})

    def get(self, path: str, **params):
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with open_url(f"{self.url}/api/{path}{query}", **self.options) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            if err.code in (401, 403):
                raise BrokerError("auth_failed", f"management API {self.url} refused the credentials "
                                                 f"(HTTP {err.code}); the user needs the monitoring tag") from None
            if err.code == 404:
                return None
            raise BrokerError("error", f"management API {self.url}/api/{path} answered HTTP {err.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise BrokerError("unreachable", f"management API {self.url} is unreachable: {reason}") from None

    def vhosts(self) -> list[str]:
        return [v["name"] for v in self.get("vhosts", columns="name") or []]

    def queues(self, vhost: str) -> dict:
        """{queue: details} with the figures the AMQP path cannot see."""
        rows = self.get(f"queues/{urllib.parse.quote(vhost, safe='')}",
                        columns="name,messages_ready,messages_unacknowledged,consumers,idle_since,message_stats")
        details = {}
        for row in rows or []:
            stats = row.get("message_stats") or {}
            details[row["name"]] = {
                "exists": True,
                "messages_ready": row.get("messages_ready", 0),
                "messages_unacknowledged": row.get("messages_unacknowledged", 0),
                "consumers": row.get("consumers", 0),
                "idle_since": row.get("idle_since"),
                "publish_rate": (stats.get("publish_details") or {}).get("rate", 0.0),
                "deliver_rate": (stats.get("deliver_get_details") or {}).get("rate", 0.0),
                "consumer_peers": [],
            }
        return details

    def consumer_peers(self, vhost: str) -> dict:
        """{queue: [peer host, ...]} from the consumers list."""
        peers = {}
        for consumer in self.get(f"consumers/{urllib.parse.quote(vhost, safe='')}") or []:
            queue = (consumer.get("queue") or {}).get("name")
            peer = (consumer.get("channel_details") or {}).get("peer_host")
            if queue and peer and peer not in peers.setdefault(queue, []):
                peers[queue].append(peer)
        return peers
