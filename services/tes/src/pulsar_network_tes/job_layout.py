"""A task as a Pulsar job: what pulsar_backend.py lays out in the task's job directory, and the job it sends.

The job's inputs are the runner (tes_runner.pyz: runner.py, runner_open.py and runner_outputs.py in one zip
application, which python3 runs as it would the script), its plan (tes_plan.json, plan.py) and the task's staged
inputs; its command line runs the runner on them; its outputs are the runner's tar and log (OUTPUTS); the task's
resources are its HTCondor requests.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from typing import Any

from . import plan, runner, runner_open, runner_outputs
from .config import BackendSettings
from .models import Resources
from .placement import requested
from .staging import Staging

OUTPUTS = ("tes_outputs.tar", "tes_log.json")
RUNNER, PLAN = "tes_runner.pyz", "tes_plan.json"
# The zip application's entry point: the runner's main, from the package inside the zip.
RUNNER_MAIN = "import sys\n\nfrom pulsar_network_tes.runner import main\n\nsys.exit(main(sys.argv[1:]))\n"


def htcondor_requests(resources: dict[str, Any] | None) -> dict[str, str]:
    """The task's resources as Pulsar destination parameters for HTCondor: whole cores, memory in MB, disk in KB."""
    resources = resources or {}
    cores, ram_gb = requested_from(resources)
    params = {"submit_request_cpus": str(math.ceil(cores)), "submit_request_memory": str(math.ceil(ram_gb * 1024))}
    if resources.get("disk_gb"):
        params["submit_request_disk"] = str(math.ceil(resources["disk_gb"] * 1024 * 1024))
    return params


def requested_from(resources: dict[str, Any]) -> tuple[float, float]:
    """Cores and GB of memory a stored task asks for (the defaults when it names none)."""
    return requested(Resources.model_validate(resources))


def write_runner(path: str) -> None:
    """The runner as the one file Pulsar stages: its three modules in their package, and a __main__ that runs it."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__main__.py", RUNNER_MAIN)
        archive.writestr("pulsar_network_tes/__init__.py", "")
        for module in (runner, runner_open, runner_outputs):
            archive.write(module.__file__, f"pulsar_network_tes/{os.path.basename(module.__file__)}")


def laid_out(inputs_dir: str) -> bool:
    """Whether the job's inputs are all written (the plan is written last) with this version's runner."""
    return all(os.path.exists(os.path.join(inputs_dir, name)) for name in (PLAN, RUNNER))


def lay_out(inputs_dir: str, task: dict[str, Any], owner: str, staging: Staging, options: BackendSettings) -> None:
    """The runner, the task's inputs and its plan, written into INPUTS_DIR (which exists)."""
    plan_path = os.path.join(inputs_dir, PLAN)
    write_runner(os.path.join(inputs_dir, RUNNER))
    staging.gather_inputs(task, owner)
    task_plan = plan.build(task, options.runtime, list(options.runtime_args), options.tail_bytes,
                           options.executor_network, max_output_bytes=options.max_output_bytes,
                           max_output_files=options.max_output_files)
    with open(plan_path + ".part", "w", encoding="utf-8") as handle:
        json.dump(task_plan, handle)
    os.replace(plan_path + ".part", plan_path)  # last: its presence means the layout is whole


def job_inputs(inputs_dir: str, task: dict[str, Any]) -> list[str]:
    """The paths Pulsar stages: the runner first, its plan, then the task's inputs."""
    staged = [os.path.join(inputs_dir, plan.staged_name(i)) for i in range(len(task.get("inputs") or []))]
    return [os.path.join(inputs_dir, RUNNER), os.path.join(inputs_dir, PLAN), *staged]


def command_line(inputs: list[str], outputs_dir: str) -> str:
    """The job's command: the runner on its plan, its outputs and the staged inputs. Pulsar stages the inputs the
    command line names, and rewrites each to its path on the endpoint."""
    return " ".join(["python3", inputs[0], inputs[1], f"{outputs_dir}/{OUTPUTS[0]}", f"{outputs_dir}/{OUTPUTS[1]}",
                     *inputs[2:], "> ../metadata/tool_stdout 2> ../metadata/tool_stderr"])
