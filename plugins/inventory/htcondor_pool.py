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
author:
  - ESG Pulsar Network engineers (@esg-pulsar-network)
extends_documentation_fragment:
  - esg.pulsar_network.htcondor_collector
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    required: true
    type: str
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
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool as hp

GROUP = "htcondor_execute_nodes"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "esg.pulsar_network.htcondor_pool"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("htcondor_pool.yml", "htcondor_pool.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        machines = None
        if use_cache:
            try:
                machines = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if machines is None:
            machines = self._read_machines()
        if update_cache:
            self._cache[cache_key] = machines
        self._populate(machines)

    def _read_machines(self) -> dict:
        if hp.HTCONDOR_IMPORT_ERROR:
            raise AnsibleParserError("htcondor_pool: the htcondor2 Python bindings are missing (pip install htcondor)")
        if self.get_option("token") and self.get_option("token_file"):
            raise AnsibleParserError("htcondor_pool: give token or token_file, not both")
        try:
            token = hp.read_token(self.get_option("token"), self.get_option("token_file"))
            client = hp.CollectorClient(self.get_option("collector"), token, self.get_option("timeout"))
            return hp.summarise_machines(client.read_pool(with_daemons=False)["slots"])
        except hp.PoolQueryError as err:
            raise AnsibleParserError(f"htcondor_pool: {err}") from None

    def _populate(self, machines: dict) -> None:
        strict = self.get_option("strict")
        self.inventory.add_group(GROUP)
        for name, facts in machines.items():
            self.inventory.add_host(name, group=GROUP)
            host_vars = {f"htcondor_{key}": value for key, value in facts.items()}
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, value)
            if self.get_option("address_as_ansible_host") and facts.get("address"):
                self.inventory.set_variable(name, "ansible_host", facts["address"])
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)
