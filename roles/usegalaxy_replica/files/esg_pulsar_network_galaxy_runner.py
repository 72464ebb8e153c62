# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Galaxy's Pulsar MQ runner, able to check the broker's name over TLS. Installed by esg.pulsar_network's
usegalaxy_replica role and named by galaxy.yml's job_config (load: esg_pulsar_network_galaxy_runner:PulsarMQJobRunner).

Galaxy validates runner parameters against a fixed list that lacks amqp_connect_ssl_server_hostname, so without it
kombu checks the broker's certificate chain but not its name: any certificate from a trusted CA would do, and a man
in the middle would get the endpoint's AMQP password. Pulsar's client turns every amqp_connect_ssl_* parameter into
kombu's ssl options, so accepting this one parameter is all that is missing. Nothing else changes.
"""

from galaxy.jobs.runners import pulsar
from galaxy.util import specs

pulsar.PULSAR_PARAM_SPECS.setdefault(
    "amqp_connect_ssl_server_hostname", dict(map=specs.to_str_or_none, default=None)
)


class PulsarMQJobRunner(pulsar.PulsarMQJobRunner):
    """Galaxy's runner as it is; importing this module lets its parameters name the broker to check."""
