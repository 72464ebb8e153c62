# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The network's filters: the preflight's checks and what each role derives from pulsar_network, the network's one
description. The logic lives in module_utils/network.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.esg.pulsar_network.plugins.module_utils import network


def network_problems(brokers, galaxies=None, heads=None, staging=None):
    return network.network_problems(brokers or {}, galaxies or {}, heads or {}, staging or {})


def _described(network_description):
    problems = network.description_problems(network_description or {})
    if problems:
        raise AnsibleFilterError("pulsar_network: " + "; ".join(problems))
    return network_description


def network_broker_endpoints(network_description):
    return network.broker_endpoints(_described(network_description))


def network_pulsar_servers(network_description, endpoint):
    try:
        return network.pulsar_servers(_described(network_description), endpoint)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from None


def network_galaxy_endpoints(network_description, galaxy):
    return network.galaxy_endpoints(_described(network_description), galaxy)


def network_join(network_description, endpoint):
    try:
        return network.join_description(_described(network_description), endpoint)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from None


def network_description_problems(network_description):
    return network.description_problems(network_description or {})


class FilterModule:
    def filters(self):
        return {
            "network_problems": network_problems,
            "network_description_problems": network_description_problems,
            "network_broker_endpoints": network_broker_endpoints,
            "network_pulsar_servers": network_pulsar_servers,
            "network_galaxy_endpoints": network_galaxy_endpoints,
            "network_join": network_join,
        }
