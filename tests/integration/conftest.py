"""Tests that run ansible-playbook against the installed collection (make integration)."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).parent))


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO


@pytest.fixture(scope="session")
def run_role():
    """Apply an installed role to localhost in check mode (tests/integration/role_runs/ROLE.yml), results as JSON."""

    def run(role, extra_vars, *options):
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="true", ANSIBLE_STDOUT_CALLBACK="json")
        return subprocess.run(
            ["ansible-playbook", "--check", "-i", "tests/integration/role_runs/inventory.yml", f"tests/integration/role_runs/{role}.yml",
             "-e", json.dumps(extra_vars), *options],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
        )

    return run


@pytest.fixture(scope="session")
def preflight_failure():
    """The one failed task of a run that preflight refused: its name and messages. Asserts nothing changed."""

    def parse(result):
        assert result.returncode != 0, result.stdout[-2000:]
        report = json.loads(result.stdout)
        assert report["stats"]["target"]["changed"] == 0
        failed = [task for play in report["plays"] for task in play["tasks"]
                  if task["hosts"].get("target", {}).get("failed")]
        assert len(failed) == 1
        host = failed[0]["hosts"]["target"]
        return failed[0]["task"]["name"], [r.get("msg", "") for r in host.get("results", [host])]

    return parse
