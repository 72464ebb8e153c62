"""The fault matrix's rows, in the order they run: for each fault a site meets, how to put a job in flight at the
stage the row names, inject the fault, record the evidence that it hit that stage, and end it; restore() heals every
fault after a row that failed halfway. Each row hands its jobs to Matrix.conclude (fault_matrix), which judges them."""
from __future__ import annotations

import json
import os
import subprocess
import time
from typing import TYPE_CHECKING

from tests.lab import galaxy_job
from tests.lab.fault_report import Row
from tests.lab.network_lab import (AMQP_USER, BROKER, EXEC, FILL, GALAXY, HEAD, LAB_NETWORK, PAD_MB, PERSISTED,
                                   PULSAR, STAGING, VHOST, WATCHDOG, WATCHDOG_GRACE, WATCHDOG_INTERVAL, condor_job,
                                   first_logged, journal_since, lab_address, podman, pulsar_pid, sh, until)

if TYPE_CHECKING:
    from tests.lab.fault_matrix import Matrix


def running_job(m: Matrix, seconds: int = 25) -> tuple[dict, str]:
    """A job held in HTCondor for `seconds`, once it runs there."""
    ids = m.submit(seconds=seconds)
    runner_id = m.runner_job_id(ids)
    m.wait_running(runner_id)
    return ids, runner_id


def broker_restart(m: Matrix) -> Row:
    row = Row("broker restart", "a job running in HTCondor, a second job's setup message waiting in the queue",
              "complete")
    running, running_id = running_job(m)
    # A consuming Pulsar takes a setup message at once: hold the second one by stopping Pulsar while it is sent.
    sh(HEAD, f"systemctl stop {PULSAR}")
    waiting = m.submit()
    waiting_id = m.runner_job_id(waiting)
    until("the setup message to wait in the queue", m.setup_messages_ready)
    sh(BROKER, "systemctl restart rabbitmq-server")
    row.evidence = f"{m.setup_messages_ready()} setup message(s) ready after the broker's restart"
    sh(HEAD, f"systemctl start {PULSAR}")
    row.fault_end = time.time()
    m.conclude(row, [running, waiting], [running_id, waiting_id])
    row.evidence += f"; Galaxy's status_update consumers afterwards: {m.consumers('pulsar_production__status_update')}"
    return row


def pulsar_restart_output_upload(m: Matrix) -> Row:
    row = Row("Pulsar restart", f"output upload ({PAD_MB} MiB) in progress", "complete")
    ids = m.submit(pad_mb=PAD_MB)
    # Watched from the moment of submission: the stage can be over before Galaxy reports Pulsar's job id.
    row.evidence = m.restart_pulsar_when(f"[ -n \"$(ls {PERSISTED}/production-postprocessing-jobs)\" ]")
    runner_id = m.runner_job_id(ids)
    row.fault_end = time.time()
    m.conclude(row, [ids], [runner_id])
    m.big = ids["output"]
    return row


def pulsar_restart_staging(m: Matrix) -> Row:
    row = Row("Pulsar restart", f"input staging ({PAD_MB} MiB) in progress", "complete")
    if not m.big:  # run alone: make the big input the output-upload row leaves
        padded = m.submit(pad_mb=PAD_MB)
        m.finish(padded)
        m.big = padded["output"]
    ids = m.submit(dataset=m.big)
    row.evidence = m.restart_pulsar_when(f"job=$(ls {PERSISTED}/production-preprocessing-jobs) && [ -n \"$job\" ] && "
                                         f"[ -n \"$(ls {STAGING}/$job/inputs 2>/dev/null)\" ]")
    runner_id = m.runner_job_id(ids)
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def execute_node_lost(m: Matrix) -> Row:
    row = Row("execute node lost (container stopped)", "job running on it", "complete")
    ids, runner_id = running_job(m, seconds=30)
    podman("stop", "--time", "10", EXEC)
    row.evidence = "idle again in condor_q while the node was away: " + until(
        "HTCondor to put the job back in the queue",
        lambda: sh(HEAD, f"condor_q -allusers -constraint 'JobStatus == 1 && {condor_job(runner_id)}' -af ClusterId"),
        timeout=120)
    podman("start", EXEC)
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def central_manager_restart(m: Matrix) -> Row:
    row = Row("central manager restart", "job running", "complete")
    ids, runner_id = running_job(m)
    sh(HEAD, "systemctl restart condor")
    until("the collector to answer", lambda: sh(HEAD, "condor_status -af Name", check=False))
    row.evidence = "condor restarted on the central manager (also the submit node)"
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def galaxy_handler_restart(m: Matrix) -> Row:
    row = Row("Galaxy job handler restart", "job running on the endpoint", "complete")
    ids, runner_id = running_job(m)
    handler = galaxy_job.state(m.gi, ids)["handler"]  # handler_N
    unit = f"galaxy-handler@{handler.rsplit('_', 1)[-1]}"
    sh(GALAXY, f"systemctl restart {unit}")
    row.evidence = f"restarted {unit}, the job's handler"
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def galaxy_cut_off(m: Matrix, seconds: int = 60) -> Row:
    # With pycurl (pulsar_staging_transport: curl) the upload is not retried: pulsar-app 0.16.0 files curl's error
    # code as an HTTP status. The role's default, requests, retries it.
    row = Row(f"Galaxy cut off from the broker for {seconds} s", "job running", "complete")
    ids, runner_id = running_job(m, seconds=20)
    address = lab_address(GALAXY)
    cut = time.time()
    podman("network", "disconnect", LAB_NETWORK, GALAXY)
    try:
        time.sleep(seconds)
        row.evidence = f"{GALAXY} off {LAB_NETWORK} for {seconds} s; the job's HTCondor run ended meanwhile: " + (
            m.condor_runs(runner_id).get("exit_code", "no"))
    finally:
        podman("network", "connect", "--ip", address, LAB_NETWORK, GALAXY)
    row.fault_end = time.time()
    m.conclude(row, [ids], [runner_id])
    row.evidence += f"; Pulsar retried staging {journal_since(PULSAR, cut, 'Failed to execute .*retrying')} time(s)"
    return row


def staging_disk_full(m: Matrix) -> Row:
    row = Row("staging disk full on the endpoint", "job starting", "clear failure", cause="No space left on device",
              known_issue=("pulsar-app 0.16.0 reports a failed setup with no message (manager_endpoint_util.submit_job "
                           "sends the failure without the exception): the ENOSPC is in Pulsar's journal, Galaxy shows "
                           "only 'Remote job server indicated a problem'"))
    if sh(HEAD, f"stat -f -c %T {STAGING}") != "tmpfs":  # never fill a disk that is not the lab's own (scripts/lab-volumes.sh)
        raise RuntimeError(f"{STAGING} is not on the lab's size-limited tmpfs volume; run make lab-host first")
    filled = time.time()
    sh(HEAD, f"dd if=/dev/zero of={FILL} bs=1M 2>/dev/null; [ $(df --output=avail -B1 {STAGING} | tail -1) -lt 1048576 ]")
    try:
        free = sh(HEAD, f"df --output=avail -B1 {STAGING} | tail -1")
        ids = m.submit()
        runner_id = m.runner_job_id(ids)
        m.finish(ids)  # the job ends, or the wait gives up, while the disk is still full
        # The mitigation: the watchdog names the cause in its journal (and exports the free space) within its interval.
        named = until("the watchdog to report the full staging disk",
                      lambda: first_logged(WATCHDOG, filled, '"staging_low"'), timeout=WATCHDOG_INTERVAL + 30)
    finally:
        sh(HEAD, f"rm -f {FILL}")
    row.evidence = (f"{free} bytes free on the staging file system while the job started; the watchdog logged "
                    f"staging_low {named - filled:.1f} s after the fill began")
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def converge_during_job(m: Matrix) -> Row:
    row = Row("a converge that restarts Pulsar (changed setting)", "job running", "complete")
    ids, runner_id = running_job(m, seconds=30)
    before = pulsar_pid()
    try:
        changed = converge(m.inventory, {"pulsar_amqp_consumer_timeout": 3.0})
        after = pulsar_pid()
        row.evidence = f"the converge changed {changed} task(s); Pulsar's pid {before} -> {after}"
        row.fault_end = time.time()
        m.conclude(row, [ids], [runner_id])
    finally:
        converge(m.inventory, {})  # back to the scenario's settings, with no job in flight
    if before == after:
        row.passed, row.problem = False, "the converge did not restart Pulsar: the row tested nothing"
    return row


def converge(inventory: str, extra_vars: dict) -> int:
    """Converge the Pulsar head's configuration and service phases as a site would; return the number of changes."""
    done = subprocess.run(["ansible-playbook", "-i", inventory, "esg.pulsar_network.pulsar_endpoint", "--limit", HEAD,
                           "--tags", "pulsar_configure,pulsar_service", "-e", json.dumps(extra_vars)],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"the converge failed: {done.stdout[-2000:]}")
    recap = [line for line in done.stdout.splitlines() if line.startswith(HEAD) and "changed=" in line][-1]
    return int(recap.split("changed=")[1].split()[0])


def broker_down_outbox(m: Matrix) -> Row:
    row = Row("broker down while the job finishes", "the job's final status update (Pulsar's outbox)", "complete")
    ids, runner_id = running_job(m, seconds=10)
    sh(BROKER, "systemctl stop rabbitmq-server")
    try:
        outbox = f"{PERSISTED}/production-status-outbox"
        row.evidence = "held in the outbox while the broker was down: " + until(
            "the final status update to wait in Pulsar's outbox",
            lambda: sh(HEAD, f"grep -l '\"complete\"' {outbox}/*.json 2>/dev/null | wc -l | grep -v '^0$'", check=False),
            timeout=120) + " file(s)"
    finally:
        sh(BROKER, "systemctl start rabbitmq-server")
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def consumer_lost(m: Matrix) -> Row:
    row = Row("Pulsar alive with no setup consumer (its consume thread died)", "the next job sent meanwhile", "complete")
    # The upstream failure, reproduced: a consume thread that meets an error it does not retry quits, and Pulsar runs
    # on without it. Refusing Pulsar's read on the setup queue while its connections are closed is such an error.
    head = lab_address(HEAD)
    pid = pulsar_pid()
    since = time.time()
    sh(BROKER, f"""
        rabbitmqctl set_permissions -p {VHOST} {AMQP_USER} '.*' '.*' '^(?!pulsar_production__setup$).*' >/dev/null
        rabbitmqctl list_connections pid name -q | awk -F '\\t' 'index($2, "{head}:") == 1 {{print $1}}' |
          while read -r connection; do rabbitmqctl close_connection "$connection" 'fault matrix' >/dev/null; done
        sleep 5
        rabbitmqctl set_permissions -p {VHOST} {AMQP_USER} '.*' '.*' '.*' >/dev/null
    """)
    lost_at = time.time()
    quit_seen = journal_since(PULSAR, since, "consumer quitting")
    ids = m.submit()
    runner_id = m.runner_job_id(ids)
    until("the setup queue's consumer to come back", m.pulsar_consuming, timeout=WATCHDOG_INTERVAL + WATCHDOG_GRACE + 60)
    row.fault_end = time.time()
    restarts = journal_since(WATCHDOG, since, '"restart"')
    row.evidence = (f"{quit_seen} consume thread(s) quit while Pulsar (pid {pid}) ran on; the setup consumer was back "
                    f"{row.fault_end - lost_at:.0f} s after the permission was restored, after {restarts} watchdog "
                    f"restart(s) (pid now {pulsar_pid()})")
    return m.conclude(row, [ids], [runner_id])


ROWS = {
    "broker_restart": broker_restart,
    "pulsar_restart_output_upload": pulsar_restart_output_upload,
    "pulsar_restart_staging": pulsar_restart_staging,
    "execute_node_lost": execute_node_lost,
    "central_manager_restart": central_manager_restart,
    "galaxy_handler_restart": galaxy_handler_restart,
    "galaxy_cut_off": galaxy_cut_off,
    "staging_disk_full": staging_disk_full,
    "converge_during_job": converge_during_job,
    "broker_down_outbox": broker_down_outbox,
    "consumer_lost": consumer_lost,
}


def restore() -> None:
    """Bring every part of the lab back after a row that failed halfway."""
    podman("start", EXEC)
    subprocess.run(["podman", "network", "connect", LAB_NETWORK, GALAXY], capture_output=True, check=False)
    sh(BROKER, "systemctl start rabbitmq-server", check=False)
    sh(HEAD, f"rm -f {FILL}; systemctl start condor {PULSAR}", check=False)
