"""GA4GH TES 1.1 in front of the Pulsar Network: tasks go to the network's endpoints over AMQP, as Galaxy's jobs do."""

__version__ = "0.1.0"
