"""The roles take their endpoints from pulsar_network, the network's one description, when their own endpoint
variables are empty: the preflight of each passes on what derives, and a description that cannot work stops the
role with its reasons and no password, even at -vvv."""
import pytest
from preflight_table import PULSAR_GOOD, RABBITMQ_GOOD, USEGALAXY_REPLICA_GOOD

PASSWORD = "VERYSECRET-network-pw"
NETWORK = {"broker": {"host": "mq.example.org"}, "galaxy_servers": [{"name": "usegalaxy_eu"}],
           "endpoints": [{"name": "site_a", "password": PASSWORD, "staging_root": "/tmp"}]}
FROM_NETWORK = {
    "rabbitmq": {**RABBITMQ_GOOD, "pulsar_network": NETWORK},
    "pulsar": {**PULSAR_GOOD, "pulsar_galaxy_servers": [], "pulsar_network": NETWORK, "pulsar_network_endpoint": "site_a"},
    "usegalaxy_replica": {**USEGALAXY_REPLICA_GOOD, "usegalaxy_replica_pulsar_endpoints": [], "pulsar_network": NETWORK,
                          "usegalaxy_replica_network_name": "usegalaxy_eu"},
}


@pytest.mark.parametrize("role", FROM_NETWORK)
def test_what_derives_from_the_description_passes_each_preflight(run_role, role):
    result = run_role(role, FROM_NETWORK[role], "--tags", f"{role}_preflight", "-vvv")
    assert result.returncode == 0, result.stdout[-3000:]
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize("role", FROM_NETWORK)
def test_a_description_that_cannot_work_stops_the_role_without_its_password(run_role, role):
    broken = {**NETWORK, "endpoints": [{**NETWORK["endpoints"][0], "galaxy_servers": ["usegalaxy_org"]}]}
    result = run_role(role, {**FROM_NETWORK[role], "pulsar_network": broken}, "--tags", f"{role}_preflight", "-vvv")
    assert result.returncode != 0
    assert "pulsar_network endpoint site_a: unknown Galaxy servers usegalaxy_org" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_the_network_preflight_refuses_a_description_that_cannot_work(tmp_path, repo):
    import json
    import os
    import subprocess
    broken = {**NETWORK, "galaxy_servers": [{"name": "usegalaxy_eu"}, {"name": "usegalaxy_eu"}]}
    inventory = {"all": {"vars": {"ansible_connection": "local", "pulsar_network": broken},
                         "children": {"rabbitmq_broker": {"hosts": {"mq": {}}}}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    result = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.json"), "esg.pulsar_network.network_preflight",
                             "-vvv"], cwd=repo, env=dict(os.environ, ANSIBLE_NOCOLOR="true"), capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 2
    assert "pulsar_network.galaxy_servers names appear twice: usegalaxy_eu" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
