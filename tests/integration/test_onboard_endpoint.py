"""The operator's onboard_endpoint playbook refuses a request that cannot work with one line, before it writes the
registry or the join file or touches a host; and a registry the run cannot decrypt stops the network preflight instead
of silently dropping its endpoints. (The joining itself, against the real broker, Galaxy and pools: molecule/network.)"""
import json
import os
import subprocess

import pytest

PASSWORD = "VERYSECRET-described-pw"
NETWORK = {"broker": {"host": "mq.example.org"}, "galaxy_servers": [{"name": "usegalaxy_eu"}],
           "endpoints": "{{ [{'name': 'site_a', 'password': '" + PASSWORD + "'}] + pulsar_network_onboarded | default([]) }}"}


def _inventory(tmp_path):
    inventory = tmp_path / "inventory"
    inventory.mkdir(exist_ok=True)
    (inventory / "hosts.json").write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "auto_silent", "pulsar_network": NETWORK},
        "children": {"rabbitmq_broker": {"hosts": {"mq": {}}}, "usegalaxy_replicas": {"hosts": {"gx": {}}}}}}))
    return inventory


def _run(repo, inventory, playbook, *options, vault=True, tmp_path=None):
    env = dict(os.environ, ANSIBLE_NOCOLOR="true")
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    if vault:
        (tmp_path / "vault-pw").write_text("integration-vault-pw\n")
        env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(tmp_path / "vault-pw")
    return subprocess.run(["ansible-playbook", "-i", str(inventory), playbook, *options], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("options, vault, reason", [
    (["-e", "onboard_endpoint=site-b"], True, "endpoint must be given (-e onboard_endpoint=NAME), letters, digits and _"),
    ([], True, "endpoint must be given (-e onboard_endpoint=NAME), letters, digits and _"),
    (["-e", "onboard_endpoint=site_b", "-e", "onboard_state=gone"], True, "onboard_state must be present or absent"),
    (["-e", "onboard_endpoint=site_a"], True, "endpoint site_a is described by hand in pulsar_network.endpoints"),
    (["-e", "onboard_endpoint=site_b", "-e", "onboard_state=absent"], True, "endpoint site_b was never onboarded: nothing to offboard"),
    (["-e", "onboard_endpoint=site_b", "-e", "onboard_galaxy_servers=usegalaxy_org"], True,
     "pulsar_network endpoint site_b: unknown Galaxy servers usegalaxy_org"),
    (["-e", "onboard_endpoint=site_b"], False, "no vault password to encrypt the registry with"),
])
def test_a_request_that_cannot_work_is_refused_before_anything_is_written(repo, tmp_path, options, vault, reason):
    inventory = _inventory(tmp_path)
    result = _run(repo, inventory, "esg.pulsar_network.onboard_endpoint", *options, "-e", f"onboard_join_dir={tmp_path}",
                  "-vvv", vault=vault, tmp_path=tmp_path)
    assert result.returncode == 2, result.stdout[-3000:]
    assert reason in result.stdout
    assert sorted(p.name for p in inventory.iterdir()) == ["hosts.json"]
    assert not list(tmp_path.glob("join-*.yml"))
    assert PASSWORD not in result.stdout + result.stderr


def test_a_registry_the_run_cannot_decrypt_stops_the_network_preflight(repo, tmp_path):
    inventory = _inventory(tmp_path)
    (tmp_path / "vault-pw").write_text("integration-vault-pw\n")
    registry = {"all": {"vars": {"pulsar_network_onboarded": [{"name": "site_b", "password": "x" * 32}]}}}
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(tmp_path / "vault-pw"), "--output",
                    str(inventory / "pulsar_network_onboarded.yml")], input=json.dumps(registry), text=True,
                   check=True, capture_output=True,
                   env={k: v for k, v in os.environ.items() if k != "ANSIBLE_VAULT_PASSWORD_FILE"})
    read = _run(repo, inventory, "esg.pulsar_network.network_preflight", vault=True, tmp_path=tmp_path)
    assert read.returncode == 0, read.stdout[-3000:]
    unread = _run(repo, inventory, "esg.pulsar_network.network_preflight", vault=False, tmp_path=tmp_path)
    assert unread.returncode == 2
    assert "pulsar_network_onboarded.yml holds onboarded endpoints but was not read" in unread.stdout
