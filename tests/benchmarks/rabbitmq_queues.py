"""Benchmark rabbitmq_queue_info for 10, 100 and 1000 queues: AMQP passive declares vs the management API.

Needs the rabbitmq scenario's broker up (`make bench-rabbitmq-queues` converges it, runs this, and destroys it).
Declares bench_N queues in site_a's vhost (one message each), then times, median of --repeat runs:
the module as Ansible runs it (AMQP only, and AMQP plus management figures), and in-process the two paths alone
(broker.queue_figures over one connection vs one GET /api/queues/{vhost}). Removes the queues afterwards.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / ".build" / "src-collections"))
# pylint: disable=wrong-import-position
from ansible_collections.esg.pulsar_network.plugins.module_utils import broker, rabbitmq_api  # noqa: E402


def timed(func, repeat):
    runs = []
    for _run in range(repeat):
        start = time.perf_counter()
        result = func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def module_run(args: dict):
    done = subprocess.run(
        ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
         "-m", "esg.pulsar_network.rabbitmq_queue_info", "-a", json.dumps(args)],
        env=dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json"),
        capture_output=True, text=True, check=False)
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    if result.get("failed") or result.get("verdict") in ("unreachable", "auth_failed"):
        sys.exit(f"module failed: {result.get('msg') or result.get('reasons')}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", required=True, help="broker address")
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--password", required=True, help="site_a's password")
    parser.add_argument("--monitoring-password", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    url = f"pyamqp://site_a:{args.password}@{args.broker}:5671//pulsar/site_a?ssl=1"
    mgmt = {"management_url": f"https://{args.broker}:15671", "management_user": "monitoring",
            "management_password": args.monitoring_password}
    api = rabbitmq_api.ManagementApi(mgmt["management_url"], "monitoring", args.monitoring_password, args.ca_file)
    connection = broker.connection(url, args.ca_file)
    channel = connection.channel()

    print(f"broker {args.broker}, vhost /pulsar/site_a; median of {args.repeat} runs; seconds")
    print(f"{'queues':>7} {'module AMQP':>12} {'module +mgmt':>13} {'AMQP path':>10} {'mgmt path':>10}  check")
    declared = 0
    for size in sorted(args.sizes):
        for n in range(declared, size):
            channel.queue_declare(queue=f"bench_{n}", durable=True, auto_delete=False)
            channel.basic_publish(channel.prepare_message(b"x"), exchange="", routing_key=f"bench_{n}")
        declared = max(declared, size)
        names = [f"bench_{n}" for n in range(size)]
        base = {"url": url, "queues": names, "ca_file": args.ca_file}
        t_module, result = timed(lambda: module_run(base), args.repeat)
        t_module_mgmt, result_mgmt = timed(lambda: module_run({**base, **mgmt}), args.repeat)
        t_amqp, figures = timed(lambda: broker.queue_figures(url, names, args.ca_file), args.repeat)
        t_api, details = timed(lambda: api.queues("/pulsar/site_a"), args.repeat)
        ready = sum(result["queues"][n]["messages_ready"] for n in names)
        agree = all(details[n]["messages_ready"] == figures[n]["messages_ready"] for n in names)
        print(f"{size:>7} {t_module:>12.2f} {t_module_mgmt:>13.2f} {t_amqp:>10.3f} {t_api:>10.3f}  "
              f"{ready} ready; paths agree: {agree}; mgmt merged: {result_mgmt['management']}")
    for n in range(declared):
        channel.queue_delete(queue=f"bench_{n}")
    connection.close()


if __name__ == "__main__":
    main()
