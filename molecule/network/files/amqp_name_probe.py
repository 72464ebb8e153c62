"""Connect to the broker the way a deployed Pulsar or Galaxy does, optionally through another address.

Run with the service's own virtualenv python. It reads the deployed configuration (Pulsar's app.yml, or Galaxy's
galaxy.yml and one Pulsar runner in it, whose parameters it first validates as Galaxy's job handler does), turns its
amqp_connect_ssl_* settings into kombu's ssl options with
Pulsar's own parser, and opens a kombu connection as Pulsar's exchange does. --via makes the broker's name resolve to
another address (a man in the middle) for this process only. Prints one JSON line; never the URL or password.
"""
import argparse
import json
import socket
import urllib.parse

import kombu
import yaml
from pulsar.client.amqp_exchange_factory import parse_amqp_connect_ssl_params


def galaxy_accepts(params):
    """Fail as Galaxy's job handler would on a parameter its runner does not accept."""
    import importlib

    from galaxy.jobs.runners import RunnerParams

    importlib.import_module(params["load"].split(":")[0])  # the configured runner, with whatever it extends
    from galaxy.jobs.runners.pulsar import PULSAR_PARAM_SPECS

    RunnerParams(specs=PULSAR_PARAM_SPECS, params={k: v for k, v in params.items() if k not in ("load", "workers")})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--runner", help="a Galaxy runner in galaxy.yml's job_config; Pulsar's app.yml if omitted")
    parser.add_argument("--via", help="address the broker's name resolves to")
    parser.add_argument("--without-name-check", action="store_true",
                        help="drop amqp_connect_ssl_server_hostname, as the collection's configuration used to")
    args = parser.parse_args()
    with open(args.config) as handle:
        config = yaml.safe_load(handle)
    if args.runner:
        params = dict(config["galaxy"]["job_config"]["runners"][args.runner])
        url = params["amqp_url"]
        galaxy_accepts(params)
    else:
        params = dict(config)
        url = params["message_queue_url"]
    if args.without_name_check:
        params.pop("amqp_connect_ssl_server_hostname", None)
    broker = urllib.parse.urlsplit(url).hostname
    if args.via:
        real = socket.getaddrinfo

        def resolve(host, *rest, **kwargs):
            return real(args.via if host == broker else host, *rest, **kwargs)

        socket.getaddrinfo = resolve
    ssl_options = parse_amqp_connect_ssl_params(params) or bool(urllib.parse.urlsplit(url).query.count("ssl="))
    report = {"broker": broker, "via": args.via, "server_hostname": (ssl_options or {}).get("server_hostname")
              if isinstance(ssl_options, dict) else None}
    try:
        with kombu.Connection(url, ssl=ssl_options, connect_timeout=10) as connection:
            connection.ensure_connection(max_retries=1)
            connection.default_channel.basic_qos(0, 1, False)
        report.update(connected=True)
    except Exception as err:  # what kombu raises varies by layer; the first line says which
        report.update(connected=False, error=(str(err).splitlines() or [type(err).__name__])[0][:300])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
