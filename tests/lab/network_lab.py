"""The network scenario's containers as the fault matrix acts on them from the controller: their names, the paths and
units on them, and the shell (podman exec) and podman commands it runs them with. Faults are injected with podman, as
the lab's own hardware."""
import subprocess
import time
from typing import Callable

BROKER, GALAXY, HEAD, EXEC = "net-broker", "net-galaxy", "net-head", "net-exec"
LAB_NETWORK = "lab-network"
PULSAR = "pulsar@lab_galaxy"
WATCHDOG = "pulsar-watchdog@lab_galaxy"
VHOST = "/pulsar/lab_endpoint/lab_galaxy"  # pulsar_network: a vhost per (endpoint, Galaxy server)
AMQP_USER = "lab_endpoint.lab_galaxy"
STAGING = "/srv/pulsar/staging/lab_galaxy"
PERSISTED = "/var/lib/pulsar/lab_galaxy/persisted_data"
FILL = f"{STAGING}/../fault-matrix-fill"  # the disk-full row's file, on the staging file system
PAD_MB = 200
WATCHDOG_INTERVAL, WATCHDOG_GRACE = 20, 30  # pulsar_watchdog_interval and _grace in the scenario


def sh(host: str, script: str, check: bool = True, timeout: float = 300) -> str:
    """Run a shell script in a lab container; return its stdout."""
    done = subprocess.run(["podman", "exec", host, "sh", "-c", script], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{host}: {script!r} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return done.stdout.strip()


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=True).stdout.strip()


def lab_address(host: str) -> str:
    return podman("inspect", host, "--format", f'{{{{(index .NetworkSettings.Networks "{LAB_NETWORK}").IPAddress}}}}')


def pulsar_pid() -> str:
    return sh(HEAD, f"systemctl show -p MainPID --value {PULSAR}")


def condor_job(runner_id: str) -> str:
    """The HTCondor constraint that picks Pulsar's job RUNNER_ID."""
    return f'Cmd == "{STAGING}/{runner_id}/command.sh"'


def until(what: str, probe: Callable[[], object], timeout: float = 180, interval: float = 0.5):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


def journal_since(unit: str, since: float, grep: str) -> int:
    """Lines of UNIT's journal on the head since the epoch time SINCE that match the extended regex GREP."""
    return int(sh(HEAD, f"journalctl -u {unit} --since @{since:.0f} -o cat | grep -cE '{grep}' || true"))


def first_logged(unit: str, since: float, grep: str) -> float | None:
    """When UNIT first logged a line matching GREP since SINCE (epoch seconds), or None."""
    stamp = sh(HEAD, f"journalctl -u {unit} --since @{since:.0f} -o short-unix | grep -m1 -E '{grep}' | cut -d' ' -f1")
    return float(stamp) if stamp else None
