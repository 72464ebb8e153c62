# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The network preflight's filter; the checks live in module_utils/network.py."""

from __future__ import annotations

from ansible_collections.esg.pulsar_network.plugins.module_utils.network import network_problems as _network_problems


def network_problems(brokers, galaxies=None, heads=None, staging=None):
    return _network_problems(brokers or {}, galaxies or {}, heads or {}, staging or {})


class FilterModule:
    def filters(self):
        return {"network_problems": network_problems}
