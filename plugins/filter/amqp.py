# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""AMQP filters for the roles' preflights and templates; the rules live in module_utils/amqp.py."""

from __future__ import annotations

from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import pulsar_client_params, url_problem


def amqp_url_problem(url, require_tls=True, require_credentials=True, vhost=None):
    return url_problem(url, require_tls, require_credentials, vhost)


def pulsar_amqp_params(url, ca_file="", url_key="amqp_url"):
    return pulsar_client_params(url, ca_file or None, True, url_key)


class FilterModule:
    def filters(self):
        return {"amqp_url_problem": amqp_url_problem, "pulsar_amqp_params": pulsar_amqp_params}
