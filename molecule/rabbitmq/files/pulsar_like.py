"""Stand-in for Pulsar's use of the broker in the rabbitmq scenario (Debian's python3-pika).

  consume MANAGER            declare Pulsar's exchange and queues, consume setup, kill and status (acking each)
  publish QUEUE COUNT        publish COUNT persistent messages through the 'pulsar' exchange
  get QUEUE [VHOST]          take one message from QUEUE, in VHOST instead of the URL's (exit 3 when refused)

The broker URL (pika form, amqps://) comes from PULSAR_LIKE_URL and the CA file from PULSAR_LIKE_CA.
"""
import os
import ssl
import sys
import urllib.parse

import pika
import pika.exceptions


def connect(vhost=None):
    params = pika.URLParameters(os.environ["PULSAR_LIKE_URL"])
    if vhost:
        params.virtual_host = vhost
    context = ssl.create_default_context(cafile=os.environ["PULSAR_LIKE_CA"])
    params.ssl_options = pika.SSLOptions(context, server_hostname=urllib.parse.urlsplit(os.environ["PULSAR_LIKE_URL"]).hostname)
    return pika.BlockingConnection(params)


def declare(channel, manager):
    channel.exchange_declare("pulsar", exchange_type="direct", durable=True)
    prefix = "pulsar_" if manager == "_default_" else f"pulsar_{manager}_"
    names = {role: f"{prefix}_{role}" for role in ("setup", "kill", "status", "status_update")}
    for name in names.values():
        channel.queue_declare(name, durable=True)
        channel.queue_bind(name, "pulsar", routing_key=name)
    return names


def main(command, *args):
    try:
        connection = connect(args[1] if command == "get" and len(args) > 1 else None)
    except pika.exceptions.ProbableAccessDeniedError:
        sys.exit(3)
    channel = connection.channel()
    if command == "consume":
        names = declare(channel, args[0])
        for role in ("setup", "kill", "status"):
            channel.basic_consume(names[role], lambda ch, method, props, body: ch.basic_ack(method.delivery_tag))
        channel.start_consuming()
    elif command == "publish":
        queue, count = args[0], int(args[1])
        for n in range(count):
            channel.basic_publish("pulsar", queue, f"message {n}".encode(),
                                  pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent))
    elif command == "get":
        try:
            channel.basic_get(args[0], auto_ack=False)
        except pika.exceptions.ChannelClosedByBroker as err:
            sys.exit(3 if err.reply_code == 403 else 4)
    connection.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
