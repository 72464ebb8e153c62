"""Every role task file that a playbook, a scenario, a script or another role runs with include_role or import_role
(tasks_from) is an entry point of that role's meta/argument_specs.yml. Ansible validates the options of an entry
point before its first task, and nothing at all for a task file that is none; and what the caller passes must pass
that validation."""
import functools
import pathlib
from typing import NamedTuple

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTION = "esg.pulsar_network."
CALLERS = ("playbooks", "molecule", "scripts", "roles")
ACTIONS = {prefix + action for prefix in ("", "ansible.builtin.", "ansible.legacy.") for action in ("include_role", "import_role")}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML as Ansible reads it, with its tags (!vault, !unsafe) taken as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None if isinstance(node, yaml.MappingNode) else str(node.value))


class RoleCall(NamedTuple):
    path: str
    role: str
    tasks_from: str
    variables: dict


def role_calls(document, path: str):
    """Each include_role/import_role with tasks_from in DOCUMENT, with the vars of its task."""
    if isinstance(document, list):
        for item in document:
            yield from role_calls(item, path)
    elif isinstance(document, dict):
        for key, value in document.items():
            if key in ACTIONS and isinstance(value, dict) and "tasks_from" in value:
                yield RoleCall(path, value.get("name") or value.get("role"), value["tasks_from"], document.get("vars") or {})
            else:
                yield from role_calls(value, path)


@functools.lru_cache(maxsize=1)
def all_role_calls():
    calls = []
    for folder in CALLERS:
        for path in sorted((REPO / folder).rglob("*.y*ml")):
            if path.suffix in (".yml", ".yaml"):
                calls += role_calls(yaml.load(path.read_text(), Loader=_Loader), str(path.relative_to(REPO)))
    return tuple(calls)


def this_collections_role(name) -> str | None:
    """The role of this collection that NAME calls, or None for another collection's."""
    name = str(name)
    if name.startswith(COLLECTION):
        return name[len(COLLECTION):]
    return name if "." not in name and (REPO / "roles" / name).is_dir() else None


def entry_point(tasks_from: str) -> str:
    """tasks_from names the task file with or without its extension."""
    return str(tasks_from).removesuffix(".yml").removesuffix(".yaml")


def argument_specs(role: str) -> dict:
    path = REPO / "roles" / role / "meta" / "argument_specs.yml"
    return ((yaml.safe_load(path.read_text()) or {}).get("argument_specs") or {}) if path.is_file() else {}


def _templated(value) -> bool:
    return "{{" in str(value) or "{%" in str(value)


def test_every_tasks_from_is_an_entry_point():
    missing = []
    for call in all_role_calls():
        role = this_collections_role(call.role)
        if _templated(call.role) or _templated(call.tasks_from):
            missing.append(f"{call.path}: cannot tell which role and task file {call.role} / {call.tasks_from} are")
        elif role is not None and entry_point(call.tasks_from) not in argument_specs(role):
            missing.append(f"{call.path}: role {call.role} runs tasks_from {call.tasks_from}, which "
                           f"roles/{role}/meta/argument_specs.yml has no entry point {entry_point(call.tasks_from)} for")
        elif role is not None and call.tasks_from != entry_point(call.tasks_from):
            # Ansible looks the entry point up by the text of tasks_from: with the extension it validates nothing.
            missing.append(f"{call.path}: write tasks_from {entry_point(call.tasks_from)}, not {call.tasks_from}, "
                           "or Ansible validates nothing")
    assert missing == [], "\n".join(missing)


def test_what_the_callers_pass_passes_the_entry_points_validation():
    """Values written out in the call (templates are validated as they render, when the play runs)."""
    errors = []
    for call in all_role_calls():
        role = this_collections_role(call.role)
        options = (argument_specs(role).get(entry_point(call.tasks_from)) or {}).get("options") or {} if role else {}
        for variable, value in call.variables.items():
            if variable in options and not _templated(value):
                result = ArgumentSpecValidator({variable: options[variable]}).validate({variable: value})
                errors += [f"{call.path}: {call.role} {call.tasks_from}: {message}" for message in result.error_messages]
    assert errors == [], "\n".join(errors)


def test_the_walk_finds_role_calls_wherever_a_task_can_be(tmp_path):
    play = [{"hosts": "all", "tasks": [
        {"name": "a", "ansible.builtin.include_role": {"name": "esg.pulsar_network.rabbitmq", "tasks_from": "users.yml"}},
        {"name": "b", "block": [{"name": "c", "import_role": {"name": "pulsar", "tasks_from": "facts"}, "vars": {"x": 1}}],
         "rescue": [{"name": "d", "ansible.legacy.include_role": {"name": "other.collection.role", "tasks_from": "x"}}]},
        {"name": "e", "ansible.builtin.include_role": {"name": "esg.pulsar_network.rabbitmq"}},
    ]}]
    calls = list(role_calls(play, "play.yml"))
    assert [(call.role, call.tasks_from) for call in calls] == [
        ("esg.pulsar_network.rabbitmq", "users.yml"), ("pulsar", "facts"), ("other.collection.role", "x")]
    assert calls[1].variables == {"x": 1}
    assert [this_collections_role(call.role) for call in calls] == ["rabbitmq", "pulsar", None]
    assert entry_point("users.yml") == entry_point("users") == "users"


@pytest.mark.parametrize("path, role, tasks_from", [
    ("playbooks/tasks/onboard_converge.yml", "esg.pulsar_network.rabbitmq", "users"),
    ("playbooks/tasks/onboard_converge.yml", "esg.pulsar_network.usegalaxy_replica", "service"),
    ("playbooks/pulsar_endpoint.yml", "esg.pulsar_network.pulsar", "execute_node"),
    ("molecule/network/tool_shed_failure.yml", "esg.pulsar_network.usegalaxy_replica", "tool_shed"),
])
def test_the_walk_finds_the_calls_of_the_playbooks_and_scenarios(path, role, tasks_from):
    assert (path, role, tasks_from) in [(call.path, call.role, call.tasks_from) for call in all_role_calls()]
