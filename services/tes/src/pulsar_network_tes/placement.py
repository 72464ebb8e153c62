"""Whether some endpoint of the network can take a task's resources at all (checked when the task is submitted).

Which endpoint takes it, among those that accept it and are healthy now, is the network's one routing rule
(plugins/module_utils/routing.py, shared with Galaxy's TPV): the backend asks it when it sends the task.
"""

from __future__ import annotations

from .config import Endpoint
from .models import Resources

# A task that names no resources asks for what Galaxy's default tool asks for.
DEFAULT_CORES = 1.0
DEFAULT_RAM_GB = 1.0


def requested(resources: Resources | None) -> tuple[float, float]:
    cores = resources.cpu_cores if resources and resources.cpu_cores else DEFAULT_CORES
    ram = resources.ram_gb if resources and resources.ram_gb else DEFAULT_RAM_GB
    return cores, ram


def accepting(endpoints: tuple[Endpoint, ...], resources: Resources | None) -> list[Endpoint]:
    cores, ram = requested(resources)
    return [e for e in endpoints if e.cores >= cores and e.mem >= ram]


def refusal(endpoints: tuple[Endpoint, ...], resources: Resources | None) -> str | None:
    """One line naming the field no endpoint can satisfy, or None when some endpoint accepts the task."""
    if not endpoints:
        return "resources: the network has no endpoint"
    if accepting(endpoints, resources):
        return None
    cores, ram = requested(resources)
    if not any(e.cores >= cores for e in endpoints):
        return (f"resources.cpu_cores: {cores:g} cores is more than any endpoint has "
                f"(the largest has {max(e.cores for e in endpoints):g})")
    if not any(e.mem >= ram for e in endpoints):
        return (f"resources.ram_gb: {ram:g} GB is more than any endpoint has "
                f"(the largest has {max(e.mem for e in endpoints):g})")
    return f"resources: no endpoint has both {cores:g} cores and {ram:g} GB"
