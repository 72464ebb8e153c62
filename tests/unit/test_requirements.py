"""The dependency lists stay in step: galaxy.yml with requirements.yml, the execution environment's ranges with the
versions the tests pin, and the execution environment with the collection's version and ansible-core range."""
import pathlib
import re

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO = pathlib.Path(__file__).resolve().parents[2]


def load(name: str):
    return yaml.safe_load((REPO / name).read_text())


def requirement_lines(name: str) -> dict[str, Requirement]:
    lines = (line.split("#")[0].strip() for line in (REPO / name).read_text().splitlines())
    return {req.name: req for req in (Requirement(line) for line in lines if line and not line.startswith("-"))}


def pulsar_role_pins() -> dict[str, str]:
    defaults = load("roles/pulsar/defaults/main.yml")
    pins = dict(entry.split("==") for entry in defaults["pulsar_pip_extra_packages"])
    # pulsar-app and pulsar-galaxy-lib are released together, with the same version
    return pins | {"pulsar-galaxy-lib": defaults["pulsar_version"]}


def test_galaxy_yml_and_requirements_yml_declare_the_same_collections():
    declared = load("galaxy.yml")["dependencies"]
    listed = {entry["name"]: entry["version"] for entry in load("requirements.yml")["collections"]}
    assert listed == declared


def test_galaxy_yml_ranges_admit_the_collections_that_the_tests_run():
    installed = next((REPO / ".venv").glob("lib/python3*/site-packages/ansible_collections"), None)
    if installed is None:
        pytest.fail("no .venv with PyPI's ansible package: run `make bootstrap`")
    for name, wanted in load("galaxy.yml")["dependencies"].items():
        manifest = installed / name.replace(".", "/") / "MANIFEST.json"
        version = yaml.safe_load(manifest.read_text())["collection_info"]["version"]
        assert version in SpecifierSet(wanted.replace(",", ", ")), f"{name} {version} is outside {wanted}"


@pytest.mark.parametrize("name", sorted(requirement_lines("meta/ee-requirements.txt")))
def test_execution_environment_ranges_admit_the_pinned_versions(name):
    wanted = requirement_lines("meta/ee-requirements.txt")[name]
    pins = {req.name: str(next(iter(req.specifier)).version)
            for req in requirement_lines("requirements/controller.txt").values()} | pulsar_role_pins()
    assert name in pins, f"{name} is in meta/ee-requirements.txt but pinned nowhere the tests run it"
    assert wanted.specifier.contains(pins[name]), f"{name}: pinned {pins[name]}, outside {wanted.specifier}"


def test_execution_environment_names_the_built_tarball_and_the_supported_ansible_core():
    definition = load("execution-environment.yml")
    tarball = f"esg-pulsar_network-{load('galaxy.yml')['version']}.tar.gz"
    assert definition["dependencies"]["galaxy"]["collections"][0]["name"] == f"collections/{tarball}"
    assert definition["additional_build_files"][0]["src"].endswith(tarball)
    core = re.sub(r"^ansible-core", "", definition["dependencies"]["ansible_core"]["package_pip"])
    assert core == load("meta/runtime.yml")["requires_ansible"]


def test_collection_meta_points_ansible_builder_at_files_that_ship():
    meta = load("meta/execution-environment.yml")["dependencies"]
    for key in ("python", "system"):
        assert (REPO / meta[key]).is_file()
        assert not any(meta[key].startswith(ignored) for ignored in load("galaxy.yml")["build_ignore"])
