"""The network preflight (playbooks/network_preflight.yml) on inventories of a whole network: a network that can work
passes; a mistake between hosts stops the run for every host before anything changes, with one line that names it
and no password, even at -vvv; and pulsar_endpoint.yml checks the heads before it builds the pool."""
import json
import os
import subprocess

import pytest

PASSWORD = "VERYSECRET-amqp-pw"
URL = "pyamqp://site_a:{{ amqp_password }}@mq.example.org:5671//pulsar/site_a?ssl=1"


def inventory(jobs_directory="/srv/pulsar/staging/usegalaxy_eu", head_url=URL):
    return {"all": {
        "vars": {"ansible_connection": "local", "amqp_password": PASSWORD},
        "children": {
            "rabbitmq_broker": {"hosts": {"mq": {
                "rabbitmq_pulsar_endpoints": [{"name": "site_a", "password": "{{ amqp_password }}"}]}}},
            "usegalaxy_replicas": {"hosts": {"galaxy": {
                "usegalaxy_replica_pulsar_endpoints": [{"name": "site_a", "amqp_url": URL, "jobs_directory": jobs_directory}]}}},
            "pulsar_heads": {"hosts": {"head": {
                "pulsar_galaxy_servers": [{"name": "usegalaxy_eu", "message_queue_url": head_url}]}}},
            "htcondor_pool": {"hosts": {"head": {"htcondor_node_roles": ["central_manager", "submit", "execute"]}}},
        }}}


@pytest.fixture
def run_playbook(tmp_path, repo):
    def run(inv, *options, playbook="esg.pulsar_network.network_preflight"):
        path = tmp_path / "inventory.json"
        path.write_text(json.dumps(inv))
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="true")
        return subprocess.run(["ansible-playbook", "-i", str(path), playbook, *options], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
    return run


def test_a_network_that_can_work_passes(run_playbook):
    result = run_playbook(inventory())
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize("inv, reason", [
    (inventory(jobs_directory="/srv/galaxy/pulsar"),
     "Galaxy server galaxy, endpoint site_a: jobs_directory /srv/galaxy/pulsar is not where Pulsar (head/usegalaxy_eu) "
     "stages this Galaxy's jobs, /srv/pulsar/staging/usegalaxy_eu."),
    (inventory(head_url=URL.replace("pulsar/site_a", "pulsar/site_b")),
     "Pulsar head head, Galaxy server usegalaxy_eu: message_queue_url names vhost /pulsar/site_b, which no broker in "
     "the inventory serves"),
])
def test_a_mistake_between_hosts_is_refused_in_one_line_without_the_password(run_playbook, inv, reason):
    result = run_playbook(inv, "-vvv")
    assert result.returncode == 2
    assert reason in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_a_refusal_stops_every_host_before_the_endpoint_is_built(run_playbook):
    """pulsar_endpoint.yml would go on to build the pool on `head`: the refusal on one host ends the run for all."""
    result = run_playbook(inventory(jobs_directory="/srv/galaxy/pulsar"), playbook="esg.pulsar_network.pulsar_endpoint")
    assert result.returncode == 2
    assert "jobs_directory /srv/galaxy/pulsar is not where Pulsar" in result.stdout
    assert "Build the HTCondor pool" not in result.stdout and "Check each Pulsar head" not in result.stdout


def test_pulsar_endpoint_checks_the_heads_before_it_builds_the_pool(run_playbook):
    listed = run_playbook(inventory(), "--list-tasks", playbook="esg.pulsar_network.pulsar_endpoint").stdout
    order = [listed.index(marker) for marker in (
        "Check the endpoints' vhosts, URLs and staging directories across hosts",
        "Run the pulsar role's checks",
        "(htcondor_pool): Build the HTCondor pool")]
    assert order == sorted(order), listed
