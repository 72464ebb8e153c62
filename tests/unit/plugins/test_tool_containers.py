"""Which container a Galaxy tool's job runs in (module_utils/tool_containers.py), decided when Galaxy routes it, and
the description's images and runtimes (module_utils/network.py)."""
import json
import os
import pathlib
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.esg.pulsar_network.plugins.module_utils import network
from ansible_collections.esg.pulsar_network.plugins.module_utils.tool_containers import (
    PODMAN_COMMAND, PODMAN_RUN_ARGUMENTS, NoContainer, Requirement, Network, container_params, image_for, needs_container,
    read_network, registry, runs_in_container)

ROOT = pathlib.Path(__file__).resolve().parents[3]

SAMTOOLS = "registry.lab:5000/lab/samtools:1.21"
ALIGN = "registry.lab:5000/lab/align:1"
IMAGES = [{"image": SAMTOOLS, "provides": ["samtools=1.21"]},
          {"image": ALIGN, "provides": ["bwa=0.7.18", "samtools"]}]
COREUTILS = [Requirement("coreutils")]
NETWORK = Network(IMAGES, COREUTILS)


def tool(*requirements, containers=(), name="Samtools sort"):
    reqs = [SimpleNamespace(type=kind, name=n, version=v) for kind, n, v in requirements]
    return SimpleNamespace(id="toolshed/repos/lab/samtools_sort/samtools_sort/1.0", name=name, requirements=reqs,
                           containers=list(containers))


def test_a_tool_without_requirements_or_container_runs_as_it_is():
    plain = tool()
    assert not needs_container(plain)
    assert container_params(plain, NETWORK) == {}


def test_a_set_requirement_is_not_software():
    assert not needs_container(tool(("set_environment", "SAMTOOLS_ROOT", None)))


def test_the_first_image_that_provides_every_requirement_is_given_to_both_runtimes():
    params = container_params(tool(("package", "samtools", "1.21")), NETWORK)
    assert params == {"docker_container_id_override": SAMTOOLS,
                      "singularity_container_id_override": f"docker://{SAMTOOLS}"}


def test_an_image_provides_a_version_it_names_or_any_when_it_names_none():
    both = [Requirement("bwa", "0.7.18"), Requirement("samtools", "1.19")]
    assert image_for(both, IMAGES) == ALIGN
    assert image_for([Requirement("samtools", "1.19")], IMAGES) == ALIGN
    assert image_for([Requirement("bwa", "0.7.17")], IMAGES) is None


def docker(identifier):
    return SimpleNamespace(type="docker", identifier=identifier)


def test_a_tools_own_container_from_the_networks_registry_is_its_image():
    own = tool(("package", "fastqc", "0.12.1"), containers=[docker("registry.lab:5000/tools/fastqc:0.12.1")])
    assert needs_container(own, COREUTILS)
    assert container_params(own, NETWORK)["docker_container_id_override"] == "registry.lab:5000/tools/fastqc:0.12.1"


def test_a_tools_own_container_from_elsewhere_yields_to_the_networks_image_or_is_refused():
    public = [docker("quay.io/biocontainers/samtools:1.21--h50ea8bc_0"),
              SimpleNamespace(type="singularity", identifier="registry.lab:5000/x")]
    covered = tool(("package", "samtools", "1.21"), containers=public)
    assert container_params(covered, NETWORK)["docker_container_id_override"] == SAMTOOLS
    with pytest.raises(NoContainer, match=r"asks for the container quay.io/biocontainers/fastqc:1, registry.lab:5000/x, "
                                          r"from a registry this Galaxy's network does not use, and no container on it "
                                          r"provides fastqc 0.12.1: the tool was not run"):
        container_params(tool(("package", "fastqc", "0.12.1"),
                              containers=[docker("quay.io/biocontainers/fastqc:1"), public[1]]), NETWORK)
    with pytest.raises(NoContainer, match=r"asks for the container samtools:1.21, from a registry .* not use: the tool"):
        container_params(tool(containers=[docker("samtools:1.21")]), NETWORK)


@pytest.mark.parametrize("image, host", [("registry.lab:5000/lab/bio:1", "registry.lab:5000"),
                                         ("quay.io/biocontainers/x:1", "quay.io"), ("localhost/x", "localhost"),
                                         ("biocontainers/x:1", None), ("x:1", None)])
def test_an_images_registry_is_read_as_podman_reads_it(image, host):
    assert registry(image) == host


def test_software_no_image_provides_is_refused_with_the_reason():
    with pytest.raises(NoContainer, match=r"Seqtk needs seqtk 1.4, and no container .* pulsar_network.containers"):
        container_params(tool(("package", "seqtk", "1.4"), name="Seqtk"), NETWORK)


def test_software_every_node_has_runs_on_the_node_and_anything_more_in_a_container():
    concatenate = tool(("package", "coreutils", "8.31"), name="Concatenate")
    assert not needs_container(concatenate, COREUTILS)
    assert container_params(concatenate, NETWORK) == {}
    assert needs_container(concatenate)
    assert needs_container(tool(("package", "coreutils", "8.31"), ("package", "samtools", "1.21")), COREUTILS)


def test_the_routing_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "containers.json"
    path.write_text(json.dumps({"images": IMAGES[:1], "node_software": []}))
    assert read_network(str(path)) == Network(IMAGES[:1], [])
    assert runs_in_container(tool(("package", "coreutils", "8.31")), str(path))
    path.write_text(json.dumps({"images": IMAGES, "node_software": ["coreutils"]}))
    os.utime(path, (1, 1))
    assert read_network(str(path)) == NETWORK
    assert not runs_in_container(tool(("package", "coreutils", "8.31")), str(path))
    path.write_text(json.dumps({"images": None, "node_software": None}))
    os.utime(path, (2, 2))
    assert read_network(str(path)) == Network([], [])


def description(**extra):
    return {"broker": {"host": "mq"}, "galaxy_servers": [{"name": "g"}],
            "endpoints": [{"name": "a", "password": "a-strong-endpoint-password-0123", **extra.pop("endpoint", {})}],
            **extra}


def test_an_endpoint_runs_no_containers_unless_it_says_which_runtime():
    assert network.galaxy_endpoints(description(), "g")[0]["container_params"] == {}
    podman = description(endpoint={"container_runtime": "podman"})
    params = network.galaxy_endpoints(podman, "g")[0]["container_params"]
    assert params["docker_enabled"] is True and params["docker_cmd"] == PODMAN_COMMAND
    assert params["docker_set_user"] == "" and params["docker_net"] == "none"
    assert params["docker_run_extra_arguments"] == PODMAN_RUN_ARGUMENTS == "--cap-drop=all --security-opt=no-new-privileges"
    assert params["container_resolvers"] == [{"type": "explicit"}]
    assert network.description_problems(podman) == []


def test_apptainer_endpoints_resolve_only_the_image_routing_gives():
    params = network.galaxy_endpoints(description(endpoint={"container_runtime": "apptainer"}), "g")[0]["container_params"]
    assert params["singularity_enabled"] is True
    assert params["container_resolvers"] == [{"type": "explicit_singularity"}]


def test_galaxy_and_the_pulsar_role_name_the_same_podman_command():
    pulsar_vars = yaml.safe_load((ROOT / "roles/pulsar/vars/main.yml").read_text())
    assert pulsar_vars["__pulsar_job_podman"] == PODMAN_COMMAND


@pytest.mark.parametrize("containers, problem", [
    ("samtools", "must be a list"),
    ([{"image": SAMTOOLS}], "exactly image and provides"),
    ([{"image": "Bad Image", "provides": ["samtools"]}], "containers[0].image is not an image reference"),
    ([{"image": "docker://x/y", "provides": ["samtools"]}], "is not an image reference"),
    ([{"image": SAMTOOLS, "provides": []}], "containers[0].provides must list"),
    ([{"image": SAMTOOLS, "provides": ["samtools>=1.2"]}], "NAME or NAME=VERSION"),
])
def test_images_the_network_cannot_use_are_refused_naming_the_field(containers, problem):
    problems = network.description_problems(description(containers=containers))
    assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize("node_software", ["coreutils", [""], ["coreutils>=8"]])
def test_node_software_is_a_list_of_requirements(node_software):
    problems = network.description_problems(description(node_software=node_software))
    assert problems == [f"pulsar_network.node_software must list requirements as NAME or NAME=VERSION: {node_software!r}"]


def test_an_unknown_runtime_is_refused():
    problems = network.description_problems(description(endpoint={"container_runtime": "docker"}))
    assert problems == ["pulsar_network endpoint a: container_runtime must be one of none, podman, apptainer"]


def test_the_images_the_lab_describes_pass():
    assert network.description_problems(description(containers=IMAGES, node_software=["coreutils"])) == []
