# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which container a Galaxy tool's job runs in on the network's endpoints, decided when Galaxy routes the job.

A tool that needs software its endpoints' nodes lack (a package <requirement> that the network's node_software does not
cover) or names a <container> runs in a container, on an endpoint whose container runtime is podman or apptainer
(pulsar_network endpoints' container_runtime). node_software is what every execute node has without one: by default
Debian's coreutils, which Galaxy's bundled text tools (Concatenate, Show beginning) require and have always run with.
Its image is, in order:
  1. the tool's own docker <container>, when it comes from a registry the network's images come from: a Tool Shed
     author does not choose what a node pulls;
  2. the network's images (pulsar_network.containers, each image with the requirements it provides), the first that
     provides every package requirement of the tool.
Either is given to the destination as docker_container_id_override (podman) and singularity_container_id_override
(apptainer, which runs a registry's image as docker://IMAGE), and the destinations resolve nothing themselves (explicit
resolvers only), so no job's image comes from anywhere else. A tool that needs a container and has none of these is
refused at routing with a reason the user reads, never run bare.

TPV's rules in usegalaxy_replica's tpv.yml call runs_in_container() and place(); usegalaxy_replica writes the images and
node_software to a JSON file beside Galaxy's settings. Standard library only, like routing.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

# The TPV tag of every destination that runs containers; a tool that needs one requires it.
CONTAINERS_TAG = "pulsar_network_containers"
RUNTIMES = ("none", "podman", "apptainer")
# The pulsar role installs it on execute nodes (__pulsar_job_podman in roles/pulsar/vars/main.yml).
PODMAN_COMMAND = "/usr/local/bin/pulsar-network-podman"
# A job's directories as Pulsar lays them out on the endpoint, and nothing of the Galaxy host's (its root, tool data).
VOLUMES = "$job_directory:ro,$tool_directory:ro,$job_directory/outputs:rw,$working_directory:rw"
# Without a capability or a way to gain one: the job's root is the Pulsar user already (rootless podman).
PODMAN_RUN_ARGUMENTS = "--cap-drop=all --security-opt=no-new-privileges"


def destination_params(runtime: str) -> dict:
    """The Galaxy destination parameters that run an endpoint's container jobs with RUNTIME. podman is rootless (its
    root is the job's user, so Galaxy sets no --user), without capabilities and without a network. Each runtime's only
    resolver is the explicit one, which the image routing gives (container_params) overrides; Galaxy's defaults would
    pull mulled images from public registries for tools that run on the node."""
    if runtime == "podman":
        return {"docker_enabled": True, "docker_cmd": PODMAN_COMMAND, "docker_set_user": "", "docker_net": "none",
                "docker_volumes": VOLUMES, "docker_run_extra_arguments": PODMAN_RUN_ARGUMENTS,
                "container_resolvers": [{"type": "explicit"}]}
    if runtime == "apptainer":
        return {"singularity_enabled": True, "singularity_volumes": VOLUMES,
                "container_resolvers": [{"type": "explicit_singularity"}]}
    return {}


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Requirement":
        """NAME or NAME=VERSION, as pulsar_network.containers[].provides lists them."""
        name, version = (str(text).split("=", 1) + [""])[:2]
        return cls(name.strip(), version.strip() or None)

    def covers(self, needed: "Requirement") -> bool:
        """A provided requirement without a version covers every version of its package."""
        return self.name == needed.name and (self.version is None or self.version == needed.version)

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name} {self.version}"


def package_requirements(tool) -> list[Requirement]:
    """The package requirements of a Galaxy tool (its ToolRequirements), in the tool's order."""
    return [Requirement(r.name, r.version) for r in getattr(tool, "requirements", None) or []
            if getattr(r, "type", "package") == "package"]


def covered(needed: Requirement, provided: list[Requirement]) -> bool:
    return any(p.covers(needed) for p in provided)


def needs_container(tool, node_software: list[Requirement] = ()) -> bool:
    """A tool with its own <container>, or a package requirement that NODE_SOFTWARE does not cover."""
    lacking = [n for n in package_requirements(tool) if not covered(n, node_software)]
    return bool(getattr(tool, "containers", None)) or bool(lacking)


def image_for(needed: list[Requirement], images: list[dict]) -> str | None:
    """The first image whose provides cover every requirement in NEEDED."""
    for entry in images:
        provided = [Requirement.parse(item) for item in entry.get("provides") or []]
        if all(covered(n, provided) for n in needed):
            return entry["image"]
    return None


@dataclass(frozen=True)
class Network:
    """What usegalaxy_replica wrote for routing: the network's images and the software every execute node has."""
    images: list
    node_software: list


_network_cache: dict[str, tuple[float, Network]] = {}


def read_network(path: str) -> Network:
    """The file usegalaxy_replica wrote, read again only when it changes."""
    mtime = os.stat(path).st_mtime
    cached = _network_cache.get(path)
    if cached is None or cached[0] != mtime:
        with open(path, encoding="utf-8") as handle:
            written = json.load(handle)
        cached = (mtime, Network(written["images"] or [],
                                 [Requirement.parse(item) for item in written["node_software"] or []]))
        _network_cache[path] = cached
    return cached[1]


class NoContainer(Exception):
    """A tool needs software and no container has it: the reason, for the user."""


def refusal(tool, needed: list[Requirement]) -> str:
    return (f"{getattr(tool, 'name', None) or tool.id} needs {', '.join(map(str, needed))}, and no container on this "
            "Galaxy's network provides it: the tool was not run. An operator adds an image that provides it to "
            "pulsar_network.containers.")


def registry(image: str) -> str | None:
    """The registry host of IMAGE as podman reads it (a first component with a dot or a port, or localhost); None for a
    short name, which podman would look up in its search registries."""
    first, rest = (image.split("/", 1) + [""])[:2]
    return first if rest and ("." in first or ":" in first or first == "localhost") else None


def own_image(tool, images: list[dict]) -> str | None:
    """The tool's own docker <container>, when its registry is one the network's images come from."""
    registries = {registry(entry["image"]) for entry in images} - {None}
    for container in getattr(tool, "containers", None) or []:
        identifier = getattr(container, "identifier", "")
        if getattr(container, "type", None) == "docker" and registry(identifier) in registries:
            return identifier
    return None


def foreign(tool, needed: list[Requirement]) -> str:
    names = ", ".join(getattr(c, "identifier", "?") for c in tool.containers)
    software = f", and no container on it provides {', '.join(map(str, needed))}" if needed else ""
    return (f"{getattr(tool, 'name', None) or tool.id} asks for the container {names}, from a registry this Galaxy's "
            f"network does not use{software}: the tool was not run. An operator adds an image that provides it to "
            "pulsar_network.containers.")


def container_params(tool, network: Network) -> dict:
    """The destination parameters that put TOOL's job in its container; {} when it needs none. NoContainer when it
    needs one and neither its own (from the network's registries) nor the network's images give it."""
    if not needs_container(tool, network.node_software):
        return {}
    needed = package_requirements(tool)
    image = own_image(tool, network.images) or (image_for(needed, network.images) if needed else None)
    if image is None:
        raise NoContainer(foreign(tool, needed) if getattr(tool, "containers", None) else refusal(tool, needed))
    return {"docker_container_id_override": image, "singularity_container_id_override": f"docker://{image}"}


def runs_in_container(tool, path: str) -> bool:
    """TPV's condition: whether TOOL's jobs go to an endpoint that runs containers."""
    return needs_container(tool, read_network(path).node_software)


def place(entity, tool, path: str):
    """TPV's rule: the job's container on the destination, or Galaxy's JobMappingException with the reason."""
    try:
        params = container_params(tool, read_network(path))
    except NoContainer as error:
        from galaxy.jobs.mapper import JobMappingException  # only inside Galaxy's handlers
        raise JobMappingException(str(error)) from None
    entity.params = {**(entity.params or {}), **params}
    return entity
