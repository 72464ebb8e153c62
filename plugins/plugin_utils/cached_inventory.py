# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the collection's inventory plugins share: read a service (or the cache), then add hosts with prefixed vars."""

from __future__ import annotations

from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable


class CachedInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """Subclasses set NAME, GROUP and VAR_PREFIX and implement read_hosts() -> {host: {var: value}}."""

    GROUP = ""
    VAR_PREFIX = ""

    def read_hosts(self) -> dict:
        raise NotImplementedError

    def verify_file(self, path):
        """A configuration file whose name ends in the plugin's own name and .yml or .yaml (pool.htcondor_pool.yml)."""
        name = self.NAME.rpartition(".")[2]
        return super().verify_file(path) and path.endswith((f"{name}.yml", f"{name}.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        hosts = None
        if use_cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if hosts is None:
            hosts = self.read_hosts()
        if update_cache:
            self._cache[cache_key] = hosts
        self.populate(hosts)

    def populate(self, hosts: dict) -> None:
        strict = self.get_option("strict")
        self.inventory.add_group(self.GROUP)
        for name, facts in hosts.items():
            self.inventory.add_host(name, group=self.GROUP)
            host_vars = {f"{self.VAR_PREFIX}{key}": value for key, value in facts.items()}
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, value)
            self.set_extra_vars(name, facts)
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)

    def set_extra_vars(self, name: str, facts: dict) -> None:
        """Hook for variables beyond the prefixed facts."""
