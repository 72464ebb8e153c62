# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's one AMQP layer: URL parsing, which URLs mean TLS, and the TLS settings every client gets.

Every AMQP client of the collection goes through here: the broker client (broker.py, kombu), Pulsar's client, and
the roles' templates and preflights (through the amqp filters). Plain functions, no client library imported, so the
filters can use them on the controller.

The rule that matters for security: a TLS connection always checks the broker's certificate *and its name*. kombu
and py-amqp check the name only when the TLS options carry ``server_hostname``; a bare ``ssl=1`` or a CA file alone
accepts any certificate that chains to a trusted CA, whatever name it carries. So the TLS options built here always
name the URL's host, and the URL's own ``ssl=`` flag is dropped because kombu would let it replace the options.
"""

from __future__ import annotations

import ssl
import urllib.parse

from ansible_collections.esg.pulsar_network.plugins.module_utils.secrets import secret_problem

TLS_SCHEMES = frozenset({"amqps", "pyamqps"})
PLAIN_SCHEMES = frozenset({"amqp", "pyamqp", "librabbitmq"})
# The one rule for the URL's ssl= query parameter: these values mean TLS, in any case.
TLS_WORDS = frozenset({"1", "true", "yes", "on", "required"})
DEFAULT_PORTS = {True: 5671, False: 5672}


class UrlError(ValueError):
    """An AMQP URL that cannot be used; str() names the problem without repeating credentials."""


def redact(url: str) -> str:
    """The URL with its password replaced, for messages (the user info ends at the host part's last '@')."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:********@{hostport}{slash}{path}"


def parse_url(url: str) -> dict:
    """pika's (amqp://, amqps://) or kombu's (pyamqp://u:p@host:5671//vhost?ssl=1) URL as connection settings.

    The virtual host is the path without its first slash, percent-decoded: '//pulsar/x' and '/%2Fpulsar%2Fx' both
    give '/pulsar/x'; an empty path means '/'. ``credentials`` says whether the URL named a user and password.
    """
    if not isinstance(url, str) or "://" not in url:
        raise UrlError("AMQP URL must look like amqps://user:password@host:5671/vhost")
    if any(c in url for c in "\r\n\t "):
        raise UrlError("AMQP URL holds white space or a line break")
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in TLS_SCHEMES | PLAIN_SCHEMES:
        raise UrlError(f"AMQP URL scheme '{scheme}' is not one of {', '.join(sorted(TLS_SCHEMES | PLAIN_SCHEMES))}")
    query = {k.lower(): v for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
    tls = scheme in TLS_SCHEMES or query.get("ssl", "").lower() in TLS_WORDS
    try:
        port = parts.port
    except ValueError:
        raise UrlError(f"AMQP URL {redact(url)} has an invalid port") from None
    if not parts.hostname:
        raise UrlError(f"AMQP URL {redact(url)} names no host")
    vhost = urllib.parse.unquote(parts.path[1:]) if parts.path else ""
    settings = {
        "host": parts.hostname,
        "port": port or DEFAULT_PORTS[tls],
        "vhost": vhost or "/",
        "username": urllib.parse.unquote(parts.username) if parts.username else "guest",
        "password": urllib.parse.unquote(parts.password) if parts.password else "guest",
        "credentials": bool(parts.username and parts.password),
        "tls": tls,
        "heartbeat": None,
    }
    if "heartbeat" in query:
        try:
            settings["heartbeat"] = int(query["heartbeat"])
        except ValueError:
            raise UrlError(f"AMQP URL heartbeat '{query['heartbeat']}' is not a number of seconds") from None
    return settings


def url_problem(url, require_tls: bool = True, require_credentials: bool = True, vhost: str | None = None) -> str:
    """'' for a URL fit for the network, else a one-line reason without the password (for preflights)."""
    try:
        settings = parse_url(url)
    except UrlError as err:
        return str(err)
    if require_credentials and not settings["credentials"]:
        return f"AMQP URL {redact(url)} names no user and password"
    if require_credentials and secret_problem("password", settings["password"]):
        return f"AMQP URL {redact(url)}: the {secret_problem('password', settings['password'])}"
    if require_tls and not settings["tls"]:
        return (f"AMQP URL {redact(url)} is not TLS: use amqps:// or pyamqp://...:5671//vhost?ssl=1 "
                f"(ssl= takes {', '.join(sorted(TLS_WORDS))})")
    if vhost is not None and settings["vhost"] != vhost:
        return f"AMQP URL {redact(url)} names vhost {settings['vhost']}, not {vhost}"
    return ""


def without_ssl_flag(url: str) -> str:
    """The URL without its ssl= query parameter (kombu lets that flag replace explicit TLS options)."""
    parts = urllib.parse.urlsplit(url)
    kept = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "ssl"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(kept, safe="/")))


def kombu_connection(url: str, ca_file: str | None = None, validate_certs: bool = True) -> tuple[str, dict | None]:
    """kombu's URL and ssl argument. For TLS the options always name the broker's host, so its name is checked."""
    settings = parse_url(url)
    if not settings["tls"]:
        return url, None
    options = {"cert_reqs": ssl.CERT_REQUIRED if validate_certs else ssl.CERT_NONE}
    if validate_certs:
        options["server_hostname"] = settings["host"]
    if ca_file:
        options["ca_certs"] = ca_file
    return without_ssl_flag(url), options


def pulsar_client_params(url: str, ca_file: str | None = None, validate_certs: bool = True,
                         url_key: str = "amqp_url") -> dict:
    """The same settings in Pulsar's spelling (app.yml, Galaxy's Pulsar runner, pulsar.client): url_key and
    amqp_connect_ssl_* strings, which Pulsar turns back into kombu's ssl dict."""
    kombu_url, options = kombu_connection(url, ca_file, validate_certs)
    params = {url_key: kombu_url}
    for key, value in (options or {}).items():
        if key == "cert_reqs":
            value = "cert_required" if value == ssl.CERT_REQUIRED else "cert_none"
        params[f"amqp_connect_ssl_{key}"] = value
    return params
