"""Benchmark the check usegalaxy_replica runs on every change to the job routing (`tpv lint`, its template's
validate), with the role's mypy settings (roles/usegalaxy_replica/files/tpv-lint-mypy.ini: each code block alone)
and with mypy's defaults (it follows the blocks' imports through Galaxy's code), on a new host: a container from the
lab's Galaxy image, where the role's install phase put TPV and Galaxy, and nothing has run yet.

Lints the routing that the role writes for the network scenario (two endpoints, the health rank hook), prints the
wall time of each way, their ratio and what importing TPV alone costs, then removes the container. Each lint runs in
a fresh container, so that neither finds the other's mypy cache. `make bench-tpv-lint` runs it.
"""
import pathlib
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
IMAGE = "localhost/pulsar-network-galaxy:trixie"
VENV = "/opt/galaxy/venv"
# The routing the role wrote for the network scenario: Galaxy's local destination, two endpoints, the rank hook.
ROUTING = """\
global: {default_inherits: default}
tools:
  default:
    abstract: true
    cores: 1
    mem: 1
    rank: |
      from galaxy.jobs.mapper import JobNotReadyException
      from ansible_collections.esg.pulsar_network.plugins.module_utils.routing import rank
      ranked = rank(candidate_destinations, entity, "/srv/galaxy/network_health.json", 60)
      if candidate_destinations and not ranked:
          raise JobNotReadyException()
      ranked
  __DATA_FETCH__: {scheduling: {require: [local]}}
destinations:
  local: {runner: local, max_accepted_cores: 2, scheduling: {require: [local]}}
  lab_endpoint: {runner: pulsar_lab_endpoint, max_accepted_cores: 2, max_accepted_mem: 2, scheduling: {accept: [lab_endpoint]}}
  lab_site: {runner: pulsar_lab_site, max_accepted_cores: 2, max_accepted_mem: 2, scheduling: {accept: [lab_site]}}
"""


def timed(workdir: str, command: str) -> float:
    start = time.monotonic()
    subprocess.run(["podman", "run", "--rm", "-v", f"{workdir}:/bench", IMAGE, "sh", "-c", command], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        (pathlib.Path(workdir) / "tpv.yml").write_text(ROUTING)
        (pathlib.Path(workdir) / "mypy").mkdir()
        (pathlib.Path(workdir) / "mypy" / "config").write_text(
            (REPO / "roles/usegalaxy_replica/files/tpv-lint-mypy.ini").read_text())
        lint = f"cd /tmp && {VENV}/bin/tpv lint /bench/tpv.yml"
        start_only = timed(workdir, "true")
        imports = timed(workdir, f"{VENV}/bin/python -c 'import tpv.commands.linter'") - start_only
        role = timed(workdir, f"XDG_CONFIG_HOME=/bench {lint}") - start_only
        defaults = timed(workdir, lint) - start_only
    print(f"tpv lint on a new host (container start, {start_only:.1f} s, taken off each figure)")
    print(f"  importing TPV's linter alone        {imports:6.1f} s")
    print(f"  with the role's mypy settings       {role:6.1f} s")
    print(f"  with mypy's defaults                {defaults:6.1f} s   defaults / role = {defaults / role:.1f}")


if __name__ == "__main__":
    main()
