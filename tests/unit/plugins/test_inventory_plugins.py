"""The inventory plugins' parsing and cache branches, through Ansible's own plugin loader and inventory objects.
The services are stubbed at the edge (the collector client, the management API); the plugins and the cache are real."""
import pytest
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.esg.pulsar_network.plugins.inventory import pulsar_endpoints
from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool as hp
from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import pulsar_queue_names

SLOTS = [
    {"Machine": "exec1.lab", "Name": "slot1@exec1.lab", "State": "Unclaimed", "Cpus": 4, "Memory": 8192, "GPUs": 0,
     "Arch": "X86_64", "OpSys": "LINUX", "CondorVersion": "$CondorVersion: 23.9.6 $", "MyAddress": "<10.0.0.5:9618>",
     "SlotType": "Partitionable", "TotalSlotCpus": 4, "TotalSlotMemory": 8192, "TotalSlotGPUs": 0},
]


class Reads:
    """Counts the service reads and returns canned answers (or raises)."""

    def __init__(self, answer=None, error=None):
        self.count, self.answer, self.error = 0, answer, error

    def __call__(self, *args, **kwargs):
        self.count += 1
        if self.error:
            raise self.error
        return self.answer


def parse(tmp_path, name, config, cache=True):
    path = tmp_path / f"pool.{name}.yml"
    path.write_text(config)
    inventory = InventoryData()
    plugin = inventory_loader.get(f"esg.pulsar_network.{name}")
    assert plugin.verify_file(str(path))
    plugin.parse(inventory, DataLoader(), str(path), cache=cache)
    if plugin.get_option("cache"):
        plugin.update_cache_if_changed()  # as InventoryManager does after each source
    return inventory


def host_vars(inventory, host):
    return inventory.get_host(host).get_vars()


@pytest.fixture
def collector(monkeypatch):
    reads = Reads(answer={"slots": SLOTS})
    monkeypatch.setattr(hp.CollectorClient, "__init__", lambda self, *args: None)
    monkeypatch.setattr(hp.CollectorClient, "read_pool", reads)
    return reads


def pool_config(tmp_path, extra=""):
    return (f"plugin: esg.pulsar_network.htcondor_pool\ncollector: cm.lab\ntoken: secret\n"
            f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {tmp_path / 'cache'}\n{extra}")


@pytest.mark.parametrize("name, accepted", [
    ("pool.htcondor_pool.yml", True), ("pool.htcondor_pool.yaml", True), ("htcondor_pool.yml", True),
    ("pool.yml", False), ("pool.pulsar_endpoints.yml", False), ("htcondor_pool.yml.bak", False),
])
def test_only_files_named_for_the_plugin_are_taken(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: esg.pulsar_network.htcondor_pool\n")
    assert inventory_loader.get("esg.pulsar_network.htcondor_pool").verify_file(str(path)) is accepted


def test_machines_become_hosts_with_prefixed_vars_and_constructed_groups(tmp_path, collector):
    inventory = parse(tmp_path, "htcondor_pool", pool_config(tmp_path, (
        "address_as_ansible_host: true\n"
        "keyed_groups: [{key: htcondor_arch, prefix: arch}]\n"
        "groups: {big: htcondor_cpus >= 4, gpu_nodes: htcondor_gpus > 0}\n"
        "compose: {cores: htcondor_cpus * 2}\n")))
    assert sorted(inventory.groups["htcondor_execute_nodes"].get_hosts(), key=str)[0].name == "exec1.lab"
    facts = host_vars(inventory, "exec1.lab")
    assert facts["htcondor_cpus"] == 4 and facts["htcondor_memory_mb"] == 8192
    assert facts["ansible_host"] == "10.0.0.5" and facts["cores"] == 8
    assert [host.name for host in inventory.groups["arch_X86_64"].get_hosts()] == ["exec1.lab"]
    assert [host.name for host in inventory.groups["big"].get_hosts()] == ["exec1.lab"]
    assert "gpu_nodes" not in inventory.groups  # a composed group is made only for a host that is in it


def test_a_second_parse_comes_from_the_cache_and_a_refresh_reads_again(tmp_path, collector):
    parse(tmp_path, "htcondor_pool", pool_config(tmp_path))
    assert collector.count == 1 and list((tmp_path / "cache").iterdir())
    cached = parse(tmp_path, "htcondor_pool", pool_config(tmp_path))
    assert collector.count == 1 and host_vars(cached, "exec1.lab")["htcondor_cpus"] == 4
    # ansible-inventory --flush-cache parses with cache=False: read the collector, then write the cache again
    collector.answer = {"slots": [dict(SLOTS[0], Cpus=8, TotalSlotCpus=8)]}
    refreshed = parse(tmp_path, "htcondor_pool", pool_config(tmp_path), cache=False)
    assert collector.count == 2 and host_vars(refreshed, "exec1.lab")["htcondor_cpus"] == 8
    assert host_vars(parse(tmp_path, "htcondor_pool", pool_config(tmp_path)), "exec1.lab")["htcondor_cpus"] == 8
    assert collector.count == 2


def test_without_cache_every_parse_reads_the_collector(tmp_path, collector):
    config = "plugin: esg.pulsar_network.htcondor_pool\ncollector: cm.lab\ntoken: secret\n"
    parse(tmp_path, "htcondor_pool", config)
    parse(tmp_path, "htcondor_pool", config)
    assert collector.count == 2


def test_an_unreachable_collector_is_a_one_line_parser_error(tmp_path, monkeypatch):
    monkeypatch.setattr(hp.CollectorClient, "__init__", lambda self, *args: None)
    monkeypatch.setattr(hp.CollectorClient, "read_pool",
                        Reads(error=hp.PoolQueryError("cannot reach the collector cm.lab")))
    with pytest.raises(AnsibleParserError, match=r"^htcondor_pool: cannot reach the collector cm.lab$"):
        parse(tmp_path, "htcondor_pool", "plugin: esg.pulsar_network.htcondor_pool\ncollector: cm.lab\n")


class FakeApi:
    """The management API at the edge: two vhosts, one of them not the monitoring user's."""

    calls = 0

    def __init__(self, *args):
        pass

    def vhosts(self):
        FakeApi.calls += 1
        return ["/pulsar/galaxy_a", "/pulsar/galaxy_b", "/other"]

    def queues(self, vhost):
        if vhost == "/pulsar/galaxy_b":
            raise BrokerError("auth_failed", "not allowed")
        names = pulsar_queue_names("production")
        return {name: {"exists": True, "messages_ready": 0, "consumers": 1} for name in names.values()}

    def consumer_peers(self, vhost):
        return {pulsar_queue_names("production")["setup"]: ["10.0.0.7"]}


def endpoints_config(tmp_path, extra=""):
    return ("plugin: esg.pulsar_network.pulsar_endpoints\nmanagement_url: https://mq.lab:15671\n"
            "management_user: monitoring\nmanagement_password: secret\nvhost_pattern: ^/pulsar/\n"
            f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {tmp_path / 'cache'}\n{extra}")


def test_endpoints_come_from_the_vhosts_the_monitoring_user_may_read(tmp_path, monkeypatch):
    monkeypatch.setattr(pulsar_endpoints, "ManagementApi", FakeApi)
    FakeApi.calls = 0
    config = endpoints_config(tmp_path, "groups: {healthy: pulsar_verdict == 'healthy'}\n")
    inventory = parse(tmp_path, "pulsar_endpoints", config)
    hosts = [host.name for host in inventory.groups["pulsar_endpoints"].get_hosts()]
    assert hosts == ["pulsar.galaxy_a.production"]
    facts = host_vars(inventory, "pulsar.galaxy_a.production")
    assert facts["pulsar_vhost"] == "/pulsar/galaxy_a" and facts["pulsar_consumer_peers"] == ["10.0.0.7"]
    assert [host.name for host in inventory.groups["healthy"].get_hosts()] == hosts
    parse(tmp_path, "pulsar_endpoints", endpoints_config(tmp_path))
    assert FakeApi.calls == 1  # the second parse came from the cache


@pytest.mark.parametrize("missing", ["management_url", "management_user", "management_password"])
def test_endpoints_need_the_management_api_and_say_which_setting_is_missing(tmp_path, missing):
    config = "\n".join(line for line in endpoints_config(tmp_path).splitlines() if not line.startswith(missing))
    with pytest.raises(AnsibleParserError, match=f"set {missing}"):
        parse(tmp_path, "pulsar_endpoints", config + "\n")
