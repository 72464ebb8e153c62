# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's one broker client: kombu (with py-amqp), as Galaxy and Pulsar use it.

Every AMQP connection the collection makes goes through here: the modules, the health reports, Galaxy's health
collector, the TES service and the Pulsar watchdog. URLs and TLS settings come from amqp.py; a failure is always a
BrokerError whose kind is one word of one vocabulary:

- unreachable: no connection (refused, timed out, TLS failed, the peer hung up);
- auth_failed: the broker refused the user, its password or its access to the vhost or a queue;
- error: the broker answered, but not as expected.

The Pulsar job client (pulsar_client.py) adds its own kinds on top (no_consumer, failed, timeout).
"""

from __future__ import annotations

import contextlib
import ssl

from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import kombu_connection, parse_url

try:
    import amqp.exceptions
    import kombu
    import kombu.exceptions
except ImportError:
    kombu = None
    KOMBU_IMPORT_ERROR = "ImportError: No module named 'kombu'"
else:
    KOMBU_IMPORT_ERROR = None


class BrokerError(Exception):
    """The broker could not be used; kind is unreachable, auth_failed or error (or a job client's own kind)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def connection(url: str, ca_file: str | None = None, validate_certs: bool = True, timeout: float = 10.0):
    """A kombu connection to URL's broker, the broker's name checked over TLS (amqp.kombu_connection). Not yet open."""
    kombu_url, ssl_options = kombu_connection(url, ca_file, validate_certs)
    scheme, rest = kombu_url.split("://", 1)
    # The AMQP protocol whatever client library the URL names: py-amqp, which kombu always has.
    return kombu.Connection(f"pyamqp://{rest}" if scheme.lower() == "librabbitmq" else kombu_url,
                            ssl=ssl_options or False, connect_timeout=timeout)


@contextlib.contextmanager
def opened(url: str, ca_file: str | None = None, validate_certs: bool = True, timeout: float = 10.0):
    """An open connection to URL's broker, for the block's use; whatever fails in the block is a BrokerError.
    One attempt, as a check must: kombu's retries would double the wait on a dead broker."""
    try:
        with connection(url, ca_file, validate_certs, timeout) as conn:
            conn.ensure_connection(max_retries=0)
            yield conn
    except Exception as err:  # kombu and py-amqp raise many kinds: failure() names them
        raise failure(err, url) from None


def _causes(err: BaseException):
    """ERR and what it was raised from: kombu re-raises py-amqp's and the socket's errors as its own."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _first_line(err: BaseException) -> str:
    text = (err.strerror if isinstance(err, OSError) and err.strerror else str(err)).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def failure(err: BaseException, url: str) -> BrokerError:
    """ERR, raised while using URL's broker, as a BrokerError with a one-line reason that holds no password."""
    try:
        settings = parse_url(url)
    except ValueError:
        settings = {"host": "?", "port": "?", "username": "?", "vhost": "?", "tls": False}
    where = f"{settings['host']}:{settings['port']}"
    causes = list(_causes(err))
    for cause in causes:
        if isinstance(cause, BrokerError):
            return cause
        if isinstance(cause, amqp.exceptions.AccessRefused):
            return BrokerError("auth_failed", f"broker {where} refused user {settings['username']}: wrong password?")
        if isinstance(cause, amqp.exceptions.NotAllowed):
            return BrokerError("auth_failed", f"broker {where} refused user {settings['username']} access to vhost "
                                              f"{settings['vhost']}: it does not exist or the user has no permission")
        if isinstance(cause, ssl.SSLError):
            return BrokerError("unreachable", f"TLS with broker {where} failed: {_first_line(cause)}")
    root = causes[-1]
    if isinstance(root, (ConnectionResetError, BrokenPipeError)) or "unexpectedly closed" in _first_line(root):
        hint = "" if settings["tls"] else ": is this a TLS port? use amqps:// or ?ssl=1"
        return BrokerError("unreachable", f"broker {where} closed the connection during the handshake{hint}")
    if isinstance(root, amqp.exceptions.AMQPError):
        return BrokerError("error", f"broker {where} answered: {_first_line(root)}")
    if isinstance(root, (OSError, EOFError)) or isinstance(err, kombu.exceptions.OperationalError):
        return BrokerError("unreachable", f"broker {where} is unreachable: {_first_line(root)}")
    return BrokerError("unreachable", f"broker {where} could not be used: {_first_line(root)}")


def _queue_failure(err: BaseException, name: str, settings: dict) -> BrokerError | None:
    """A passive declare's answer: None for a queue that does not exist, else the error it is."""
    if isinstance(err, amqp.exceptions.NotFound):
        return None
    if isinstance(err, amqp.exceptions.AccessRefused):
        return BrokerError("auth_failed", f"user {settings['username']} may not read queue {name} "
                                          f"in vhost {settings['vhost']}")
    return BrokerError("error", f"broker closed the channel on queue {name}: {_first_line(err)}")


def queue_figures(url: str, queues, ca_file: str | None = None, validate_certs: bool = True,
                  timeout: float = 10.0) -> dict:
    """{queue: {exists, messages_ready, consumers}} by passive declares over one connection; a queue that does not
    exist has exists=False. Raises BrokerError."""
    settings = parse_url(url)
    figures = {}
    with opened(url, ca_file, validate_certs, timeout) as conn:
        for name in queues:
            channel = conn.channel()
            try:
                _name, ready, consumers = channel.queue_declare(queue=name, passive=True)
                figures[name] = {"exists": True, "messages_ready": ready, "consumers": consumers}
            except conn.channel_errors as err:
                problem = _queue_failure(err, name, settings)
                if problem:
                    raise problem from None
                figures[name] = {"exists": False, "messages_ready": 0, "consumers": 0}
            finally:
                try:
                    channel.close()
                except Exception:  # the broker already closed it after a 404
                    pass
    return figures
