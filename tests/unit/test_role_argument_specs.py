"""Every public role variable is documented in meta/argument_specs.yml, with the default it really has."""
import pathlib

import pytest
import yaml

ROLES = sorted(p.parent.parent for p in pathlib.Path(__file__).resolve().parents[2].glob("roles/*/meta/argument_specs.yml"))


def load(path: pathlib.Path):
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_every_default_is_specified_with_the_same_default(role):
    defaults = load(role / "defaults" / "main.yml")
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options), "defaults/main.yml and meta/argument_specs.yml list different variables"
    for name, value in defaults.items():
        assert options[name].get("default") == value, f"{name}: default differs between defaults/ and argument_specs"
        assert options[name].get("description"), f"{name} has no description"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_other_entry_points_take_variables_of_main_with_the_same_defaults(role):
    defaults = load(role / "defaults" / "main.yml")
    for entry_point, spec in load(role / "meta" / "argument_specs.yml")["argument_specs"].items():
        assert (role / "tasks" / f"{entry_point}.yml").is_file(), f"entry point {entry_point} has no tasks file"
        for name, option in spec.get("options", {}).items():
            assert name in defaults, f"{entry_point}: {name} is not in defaults/main.yml"
            assert option.get("default") == defaults[name], f"{entry_point}: {name}'s default differs"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_public_variables_carry_the_role_prefix(role):
    for name in load(role / "defaults" / "main.yml"):
        assert name.startswith(role.name + "_"), name


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_private_variables_live_in_vars(role):
    for name in load(role / "vars" / "main.yml"):
        assert name.startswith(f"__{role.name}_"), name


def test_every_role_has_argument_specs(repo):
    roles = sorted(p.name for p in (repo / "roles").iterdir() if p.is_dir())
    assert roles == [r.name for r in ROLES]
