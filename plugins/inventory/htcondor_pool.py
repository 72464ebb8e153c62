# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: htcondor_pool
short_description: The execute machines of an HTCondor pool, from its collector
version_added: 0.1.0
description:
  - One host per execute machine that has slots in the collector, with its resources and state as host vars
    (prefixed C(htcondor_)) C(cpus), C(memory_mb), C(gpus), C(claimed) (CPUs, memory, GPUs in use),
    C(slots) (slot counts by state), C(arch), C(opsys), C(condor_version) and C(address).
  - Every host is in the group C(htcondor_execute_nodes); C(compose), C(groups) and C(keyed_groups) add more.
  - With C(cache) on, the per-machine summary (not the raw ads) is cached, so a large pool is read once per
    C(cache_timeout).
  - The configuration file's name must end in C(htcondor_pool.yml) or C(htcondor_pool.yaml).
extends_documentation_fragment:
  - esg.pulsar_network.cached_inventory
  - esg.pulsar_network.htcondor_collector
  - constructed
  - inventory_cache
options:
  plugin:
    choices: [esg.pulsar_network.htcondor_pool]
  address_as_ansible_host:
    description: Set C(ansible_host) to the address the machine's startd advertises.
    type: bool
    default: false
"""

EXAMPLES = r"""
# pool.htcondor_pool.yml
plugin: esg.pulsar_network.htcondor_pool
collector: cm.pulsar.example.org
token_file: ~/.condor/tokens.d/pool-reader
keyed_groups:
  - key: htcondor_arch
    prefix: arch
groups:
  busy: htcondor_claimed.cpus > 0
  gpu_nodes: htcondor_gpus > 0
compose:
  ansible_host: htcondor_address
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-htcondor-pool
cache_timeout: 300

# ansible-inventory -i pool.htcondor_pool.yml --graph
"""

from ansible.errors import AnsibleParserError

from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool as hp
from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool_summary as hps
from ansible_collections.esg.pulsar_network.plugins.plugin_utils.cached_inventory import CachedInventory


class InventoryModule(CachedInventory):
    NAME = "esg.pulsar_network.htcondor_pool"
    GROUP = "htcondor_execute_nodes"
    VAR_PREFIX = "htcondor_"

    def read_hosts(self) -> dict:
        if hp.HTCONDOR_IMPORT_ERROR:
            raise AnsibleParserError("htcondor_pool: the htcondor2 Python bindings are missing (pip install htcondor)")
        try:
            token = hp.read_token(self.get_option("token"), self.get_option("token_file"))
            client = hp.CollectorClient(self.get_option("collector"), token, self.get_option("timeout"))
            return hps.summarise_machines(client.read_pool(with_daemons=False)["slots"])
        except hp.PoolQueryError as err:
            raise AnsibleParserError(f"htcondor_pool: {err}") from None

    def set_extra_vars(self, name: str, facts: dict) -> None:
        if self.get_option("address_as_ansible_host") and facts.get("address"):
            self.inventory.set_variable(name, "ansible_host", facts["address"])
