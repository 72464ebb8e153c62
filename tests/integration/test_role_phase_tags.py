"""Every role tags each task with its phases, <role>_preflight/_install/_configure/_service, so that a site can run one
phase (for example the install phases to bake a node image, and the rest at boot)."""
import os
import re
import subprocess

import pytest

ROLES = ["cvmfs", "htcondor", "pulsar", "rabbitmq", "usegalaxy_replica", "tes"]
PHASES = ["preflight", "install", "configure", "service"]


def listed_tasks(repo, role, *options):
    """(task name, tags) for each task that ansible-playbook --list-tasks shows for the role."""
    result = subprocess.run(
        ["ansible-playbook", "-i", "tests/integration/role_runs/inventory.yml", f"tests/integration/role_runs/{role}.yml", "--list-tasks",
         *options], cwd=repo, env=dict(os.environ, ANSIBLE_NOCOLOR="true"), capture_output=True, text=True,
        check=True, timeout=120)
    return [(m["name"], set(filter(None, m["tags"].split(", "))))
            for m in re.finditer(r"^\s+\S+ : (?P<name>.+?)\tTAGS: \[(?P<tags>[^]]*)\]$", result.stdout, re.M)]


@pytest.mark.parametrize("role", ROLES)
def test_every_task_carries_a_phase_tag(repo, role):
    tasks = listed_tasks(repo, role)
    assert len(tasks) > 5
    untagged = [name for name, tags in tasks
                if not tags & {f"{role}_{phase}" for phase in PHASES} and tags != {"always"}]
    assert untagged == []


@pytest.mark.parametrize("role", ROLES)
def test_the_install_phase_changes_no_configuration(repo, role):
    install = listed_tasks(repo, role, "--tags", f"{role}_install")
    names = [name for name, _tags in install]
    assert any(re.search(r"[Ii]nstall", name) for name in names), names
    # Configuration that must precede the package's first start is part of both phases.
    configuring = [name for name, tags in install if re.search(r"^(Write|Configure|Start|Run|Enable) ", name)
                   and f"{role}_configure" not in tags]
    assert configuring == []
    everything = listed_tasks(repo, role)
    assert len(install) < len(everything)


@pytest.mark.parametrize("role", ROLES)
def test_configure_and_service_runs_begin_with_the_preflight(repo, role):
    for phase in ("configure", "service"):
        tasks = [(name, tags) for name, tags in listed_tasks(repo, role, "--tags", f"{role}_{phase}")
                 if tags != {"always"}]
        assert f"{role}_preflight" in tasks[0][1], (phase, tasks[0])
